"""Contract of the market suggestions table: which destination countries a firm should try next.

Derived (`origin="derived"`): written whole by the markets load step from the scoring job's
output (exportintel.markets). One row per firm and suggested country (the top
`SUGGESTION_COUNT`), with the evidence terms' contributions to the score and the reasons in
Korean and English.
"""

from __future__ import annotations

from exportintel.contracts.continuity import SIZE_BANDS
from exportintel.contracts.datasets import ARR, BOOL, DBL, FIRST_YEAR, INT, LAST_YEAR, STR
from exportintel.contracts.model import Contract, Field, PiiClass

SUGGESTION_COUNT = 5
# The evidence terms of a market score, in the order reasons and tables show them.
EVIDENCE_TERMS = ("demand", "growth", "fx", "price_fit", "crisis", "buyers", "peers")
_TERM_MEANINGS = {
    "demand": "ln of Korea's exports of the firm's main HS chapter to the country in the year",
    "growth": "yearly ln change of that trade over the two years before",
    "fx": "ln change of KRW per unit of the country's payment currency in the year "
    "(positive: the won weakened, the firm's prices fell in the buyers' currency)",
    "price_fit": "share of the country's buyers of the chapters whose desired price range "
    "meets the firm's after the year's exchange-rate move",
    "crisis": "mean travel-advisory level (0-4) of the country in the year",
    "buyers": "ln(1 + buyers known to the agency asking for the firm's HS chapters there)",
    "peers": "ln(1 + years in which similar firms, same main chapter and a size band at most "
    "one step away, that exported there kept exporting there the next year, up to the year)",
}

MARKET_SUGGESTIONS = Contract(
    name="market_suggestions",
    description=(
        "The destination countries each exporter should try next, top "
        f"{SUGGESTION_COUNT} by the market model's score over the evidence in the lake "
        "(import demand and growth for the firm's HS chapters, price competitiveness after "
        "exchange-rate moves, crisis level, buyers asking for the chapters there, where "
        "similar firms kept exporting), with each term's contribution and the reasons; "
        "countries the firm already exports to are never suggested (exportintel.markets)."
    ),
    origin="derived",
    owner="market suggestions",
    primary_key=("model_version", "firm_id", "country_code"),
    fields=(
        Field(
            name="firm_id",
            type=STR,
            description="Agency firm id of the exporter",
            format="exporter_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="as_of_year",
            type=INT,
            description="Last full year of evidence; the suggestions are for the years after",
            minimum=FIRST_YEAR,
            maximum=LAST_YEAR,
            unit="year",
        ),
        Field(
            name="rank",
            type=INT,
            description="Position among the firm's suggestions, 1 = best",
            minimum=1,
            maximum=SUGGESTION_COUNT,
        ),
        Field(name="country_code", type=STR, description="Suggested country", format="iso_country"),
        Field(
            name="score",
            type=DBL,
            description="Probability that this country is the firm's next new market, among "
            "the countries it does not export to yet (softmax of the model's utilities)",
            minimum=0,
            maximum=1,
            unit="probability",
        ),
        *(
            Field(
                name=f"{term}_term",
                type=DBL,
                description=f"Contribution of '{term}' to the utility: weight x standardised "
                f"({_TERM_MEANINGS[term]})",
                unit="logit",
            )
            for term in EVIDENCE_TERMS
        ),
        Field(
            name="hs_chapter",
            type=STR,
            description="The firm's main HS chapter (of its first listed HS code)",
            format="hs2",
        ),
        Field(
            name="size_band",
            type=STR,
            description="Employees of the latest firm year: small < 50, medium < 300, large",
            required=False,
            allowed=SIZE_BANDS,
        ),
        Field(
            name="novice",
            type=BOOL,
            description="A novice exporter: first export in as_of_year - 2 or later, or none "
            "yet; its suggestions rest on its HS codes, prices and size",
        ),
        Field(
            name="reasons_en",
            type=ARR,
            description="The strongest evidence for the country, as sentences in English",
        ),
        Field(
            name="reasons_ko",
            type=ARR,
            description="The same reasons in Korean, same order",
        ),
        Field(
            name="model_version",
            type=STR,
            description="Version of the market model that scored the row",
            format="identifier",
        ),
    ),
)

CONTRACTS = (MARKET_SUGGESTIONS,)
