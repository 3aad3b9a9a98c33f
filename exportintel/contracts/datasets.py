"""The platform's dataset contracts: the single source of truth for every table.

Units follow the agency's conventions: money in USD unless the name says KRW (then in millions
of KRW), counts per year for firm data, dates in Asia/Seoul.
"""

from __future__ import annotations

from exportintel.contracts.model import Contract, Field, FieldType, PiiClass, Treatment

STR, INT, BIGINT, DBL = FieldType.STRING, FieldType.INT, FieldType.BIGINT, FieldType.DOUBLE
BOOL, DATE, TS, ARR = FieldType.BOOLEAN, FieldType.DATE, FieldType.TIMESTAMP, FieldType.STRING_ARRAY

FIRST_YEAR, LAST_YEAR = 1900, 2100
CREDIT_GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")
RATINGS = (-1.0, -0.5, 0.0, 0.5, 1.0)
KOREAN_REGIONS = (
    "Seoul",
    "Busan",
    "Daegu",
    "Incheon",
    "Gwangju",
    "Daejeon",
    "Ulsan",
    "Sejong",
    "Gyeonggi",
    "Gangwon",
    "Chungbuk",
    "Chungnam",
    "Jeonbuk",
    "Jeonnam",
    "Gyeongbuk",
    "Gyeongnam",
    "Jeju",
)


def _contact_fields() -> tuple[Field, ...]:
    return (
        Field(
            name="contact_name",
            type=STR,
            description="Contact person's full name",
            required=False,
            pii=PiiClass.DIRECT,
        ),
        Field(
            name="contact_phone",
            type=STR,
            description="Contact person's phone number",
            required=False,
            format="phone",
            pii=PiiClass.DIRECT,
        ),
        Field(
            name="contact_email",
            type=STR,
            description="Contact person's e-mail address",
            required=False,
            format="email",
            pii=PiiClass.DIRECT,
        ),
        Field(
            name="contact_address",
            type=STR,
            description="Contact person's postal address",
            required=False,
            pii=PiiClass.DIRECT,
            treatment=Treatment.DROP,
        ),
    )


EXPORTERS = Contract(
    name="exporters",
    description="Exporting firms registered with the agency (agency database extract).",
    origin="agency extract",
    primary_key=("firm_id",),
    fields=(
        Field(
            name="firm_id",
            type=STR,
            description="Agency firm id",
            format="exporter_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="business_reg_no",
            type=STR,
            description="Business registration number",
            format="business_reg_no",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="firm_name", type=STR, description="Registered firm name", pii=PiiClass.BUSINESS
        ),
        Field(
            name="region",
            type=STR,
            description="Province or metropolitan city of the head office",
            allowed=KOREAN_REGIONS,
        ),
        Field(
            name="hs_codes",
            type=ARR,
            description="HS codes of the products the firm sells",
            format="hs6",
        ),
        Field(
            name="product_names",
            type=ARR,
            description="Product names as the firm wrote them",
            required=False,
            pii=PiiClass.FREE_TEXT,
        ),
        Field(
            name="price_min_usd",
            type=DBL,
            description="Lowest unit price offered",
            minimum=0,
            unit="USD per unit",
        ),
        Field(
            name="price_max_usd",
            type=DBL,
            description="Highest unit price offered",
            minimum=0,
            unit="USD per unit",
        ),
        Field(
            name="monthly_capacity_units",
            type=BIGINT,
            description="Volume the firm can supply",
            minimum=0,
            unit="units per month",
        ),
        Field(
            name="founding_year",
            type=INT,
            description="Year the firm was founded",
            minimum=FIRST_YEAR,
            maximum=LAST_YEAR,
            unit="year",
        ),
        *_contact_fields(),
        Field(
            name="updated_at",
            type=TS,
            description="When the agency record last changed",
            unit="timestamp, Asia/Seoul",
        ),
    ),
)

BUYERS = Contract(
    name="buyers",
    description="Foreign buyers in the agency's database (agency database extract).",
    origin="agency extract",
    primary_key=("buyer_id",),
    fields=(
        Field(
            name="buyer_id",
            type=STR,
            description="Agency buyer id",
            format="buyer_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="buyer_name",
            type=STR,
            description="Registered company name",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="country_code", type=STR, description="Country of the buyer", format="iso_country"
        ),
        Field(
            name="currency",
            type=STR,
            description="Currency the buyer pays in",
            format="iso_currency",
        ),
        Field(
            name="hs_codes_wanted",
            type=ARR,
            description="HS codes the buyer wants to source",
            format="hs6",
        ),
        Field(
            name="products_wanted",
            type=ARR,
            description="Wanted products as the buyer wrote them",
            required=False,
            pii=PiiClass.FREE_TEXT,
        ),
        Field(
            name="desired_price_min_usd",
            type=DBL,
            description="Lowest acceptable unit price",
            minimum=0,
            unit="USD per unit",
        ),
        Field(
            name="desired_price_max_usd",
            type=DBL,
            description="Highest acceptable unit price",
            minimum=0,
            unit="USD per unit",
        ),
        Field(
            name="desired_volume_units",
            type=BIGINT,
            description="Volume wanted",
            minimum=0,
            unit="units per month",
        ),
        Field(
            name="annual_revenue_usd",
            type=DBL,
            description="Annual revenue",
            minimum=0,
            required=False,
            unit="USD per year",
        ),
        Field(
            name="founding_year",
            type=INT,
            description="Year the buyer was founded",
            minimum=FIRST_YEAR,
            maximum=LAST_YEAR,
            unit="year",
        ),
        Field(
            name="employees",
            type=INT,
            description="Number of employees",
            minimum=0,
            required=False,
            unit="persons",
        ),
        Field(
            name="bad_credit", type=BOOL, description="Flagged for bad credit: never recommended"
        ),
        *_contact_fields(),
        Field(
            name="updated_at",
            type=TS,
            description="When the agency record last changed",
            unit="timestamp, Asia/Seoul",
        ),
    ),
)

FIRM_FINANCIALS = Contract(
    name="firm_financials",
    description="An exporter's yearly figures and capability signals, as known for that year.",
    origin="agency extract",
    primary_key=("firm_id", "year"),
    partition_key="year_partition",
    partition_source="year",
    fields=(
        Field(
            name="firm_id",
            type=STR,
            description="Agency firm id",
            format="exporter_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="year",
            type=INT,
            description="Fiscal year the figures describe",
            minimum=FIRST_YEAR,
            maximum=LAST_YEAR,
            unit="year",
        ),
        Field(
            name="employees",
            type=INT,
            description="Employees at year end",
            minimum=0,
            maximum=1_000_000,
            unit="persons",
        ),
        Field(
            name="revenue_krw_mn", type=DBL, description="Revenue", minimum=0, unit="KRW million"
        ),
        Field(
            name="net_income_krw_mn",
            type=DBL,
            description="Net income (may be negative)",
            unit="KRW million",
        ),
        Field(
            name="revenue_growth_pct",
            type=DBL,
            description="Revenue growth on the prior year",
            minimum=-100,
            maximum=10_000,
            required=False,
            unit="percent",
        ),
        Field(
            name="operating_profit_krw_mn",
            type=DBL,
            description="Operating profit",
            unit="KRW million",
        ),
        Field(
            name="capital_krw_mn",
            type=DBL,
            description="Paid-in capital",
            minimum=0,
            unit="KRW million",
        ),
        Field(
            name="target_language_staff",
            type=INT,
            description="Staff speaking a target market's language",
            minimum=0,
            unit="persons",
        ),
        Field(
            name="overseas_marketing_staff",
            type=INT,
            description="Overseas-marketing staff",
            minimum=0,
            unit="persons",
        ),
        Field(
            name="exhibitions",
            type=INT,
            description="Overseas exhibitions attended that year",
            minimum=0,
            unit="count per year",
        ),
        Field(
            name="certifications",
            type=INT,
            description="Certifications held at year end (ISO, CE, FDA, ...)",
            minimum=0,
            unit="count",
        ),
    ),
)

CREDIT_EVALUATIONS = Contract(
    name="credit_evaluations",
    description="Credit grades of exporters from credit bureaus (external feed).",
    origin="external feed",
    primary_key=("evaluation_id",),
    partition_key="evaluation_year",
    partition_source="evaluated_on",
    fields=(
        Field(
            name="evaluation_id",
            type=STR,
            description="Bureau's evaluation id",
            format="identifier",
        ),
        Field(
            name="firm_id",
            type=STR,
            description="Agency firm id",
            format="exporter_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(name="evaluated_on", type=DATE, description="Date the grade was issued", unit="date"),
        Field(
            name="grade", type=STR, description="Credit grade, best to worst", allowed=CREDIT_GRADES
        ),
        Field(
            name="bureau",
            type=STR,
            description="Credit bureau that issued the grade",
            allowed=("NICE", "KED", "SCI"),
        ),
    ),
)

MATCH_HISTORY = Contract(
    name="match_history",
    description="Past exporter-buyer matchmakings and their outcomes (agency database extract).",
    origin="agency extract",
    primary_key=("match_id",),
    partition_key="requested_year",
    partition_source="requested_on",
    fields=(
        Field(name="match_id", type=STR, description="Matchmaking id", format="identifier"),
        Field(
            name="exporter_id",
            type=STR,
            description="Exporter",
            format="exporter_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="buyer_id", type=STR, description="Buyer", format="buyer_id", pii=PiiClass.BUSINESS
        ),
        Field(
            name="requested_by",
            type=STR,
            description="Which side asked for the meeting",
            allowed=("exporter", "buyer", "agency"),
        ),
        Field(
            name="channel",
            type=STR,
            description="Where the match was made",
            allowed=("fair", "online", "office"),
        ),
        Field(
            name="requested_on",
            type=DATE,
            description="Date the meeting was requested",
            unit="date",
        ),
        Field(name="meeting_held", type=BOOL, description="The meeting took place"),
        Field(name="deal_closed", type=BOOL, description="A deal followed the meeting"),
        Field(
            name="deal_value_usd",
            type=DBL,
            description="Value of the deal",
            minimum=0,
            required=False,
            unit="USD",
        ),
        Field(
            name="exporter_rating",
            type=DBL,
            description="Exporter's post-meeting rating",
            allowed=RATINGS,
            required=False,
            unit="-1 very bad .. 1 very good",
        ),
        Field(
            name="buyer_rating",
            type=DBL,
            description="Buyer's post-meeting rating",
            allowed=RATINGS,
            required=False,
            unit="-1 very bad .. 1 very good",
        ),
        Field(
            name="officer_note",
            type=STR,
            description="Matchmaker's note",
            required=False,
            pii=PiiClass.FREE_TEXT,
        ),
    ),
)

FAIR_PARTICIPATION = Contract(
    name="fair_participation",
    description="Who exhibited at and who visited which booth of the consumer-goods fairs.",
    origin="agency extract",
    primary_key=("participation_id",),
    partition_key="fair_year",
    partition_source="fair_date",
    fields=(
        Field(
            name="participation_id",
            type=STR,
            description="Participation record id",
            format="identifier",
        ),
        Field(name="fair_id", type=STR, description="Fair id", format="identifier"),
        Field(name="fair_date", type=DATE, description="Day of the fair", unit="date"),
        Field(
            name="firm_id",
            type=STR,
            description="Exhibiting exporter or visiting buyer",
            format="firm_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="role",
            type=STR,
            description="Exhibitor or visitor",
            allowed=("exhibitor", "visitor"),
        ),
        Field(
            name="booth_id",
            type=STR,
            description="Booth exhibited at or visited",
            format="identifier",
        ),
        Field(name="online", type=BOOL, description="Took part in the online fair"),
    ),
)

EXPORT_HISTORY = Contract(
    name="export_history",
    description="Yearly export values per firm, HS code and destination (customs records).",
    origin="agency extract",
    primary_key=("firm_id", "year", "hs_code", "destination_country"),
    partition_key="year_partition",
    partition_source="year",
    fields=(
        Field(
            name="firm_id",
            type=STR,
            description="Agency firm id",
            format="exporter_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="year",
            type=INT,
            description="Calendar year of the exports",
            minimum=FIRST_YEAR,
            maximum=LAST_YEAR,
            unit="year",
        ),
        Field(name="hs_code", type=STR, description="HS code exported", format="hs6"),
        Field(
            name="destination_country",
            type=STR,
            description="Destination country",
            format="iso_country",
        ),
        Field(
            name="export_value_usd",
            type=DBL,
            description="Value exported that year",
            minimum=0,
            unit="USD",
        ),
    ),
)

WEB_EVENTS = Contract(
    name="web_events",
    description="Clickstream of the online fair and the matching site.",
    origin="clickstream",
    primary_key=("event_id",),
    # Months, not days: at the agency's volume a day holds too few events for Athena-sized files.
    partition_key="event_month",
    partition_source="event_time",
    partition_granularity="month",
    fields=(
        Field(name="event_id", type=STR, description="Event id set by the client", format="uuid"),
        Field(
            name="event_time", type=TS, description="When the event happened", unit="timestamp, UTC"
        ),
        Field(
            name="event_type",
            type=STR,
            description="What the user did",
            allowed=(
                "login",
                "page_view",
                "search",
                "click",
                "profile_view",
                "save",
                "dismiss",
                "inquiry",
                "rating",
            ),
        ),
        Field(
            name="user_id",
            type=STR,
            description="Signed-in user's account id",
            required=False,
            pii=PiiClass.DIRECT,
        ),
        Field(
            name="cookie_id",
            type=STR,
            description="Browser cookie id",
            required=False,
            pii=PiiClass.DIRECT,
            treatment=Treatment.DROP_WITHOUT_CONSENT,
        ),
        Field(name="cookie_consent", type=BOOL, description="The user consented to cookies"),
        Field(
            name="session_id",
            type=STR,
            description="Browser session",
            format="identifier",
            pii=PiiClass.QUASI,
            treatment=Treatment.PSEUDONYMISE,
        ),
        Field(
            name="actor_type",
            type=STR,
            description="Who acted",
            allowed=("exporter", "buyer", "staff", "anonymous"),
        ),
        Field(
            name="actor_firm_id",
            type=STR,
            description="The signed-in user's firm",
            required=False,
            format="firm_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(name="page", type=STR, description="Page path"),
        Field(name="referrer_page", type=STR, description="Previous page path", required=False),
        Field(
            name="dwell_seconds",
            type=DBL,
            description="Time spent on the page",
            minimum=0,
            maximum=86_400,
            required=False,
            unit="seconds",
        ),
        Field(
            name="search_keyword",
            type=STR,
            description="Search text typed by the user",
            required=False,
            pii=PiiClass.FREE_TEXT,
        ),
        Field(
            name="target_id",
            type=STR,
            description="Profile viewed, saved or inquired",
            required=False,
            format="firm_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="hs_chapter",
            type=STR,
            description="Category of the page or profile",
            required=False,
            format="hs2",
        ),
        Field(
            name="rating",
            type=DBL,
            description="Post-meeting rating",
            required=False,
            allowed=RATINGS,
            unit="-1 very bad .. 1 very good",
        ),
        Field(
            name="user_agent",
            type=STR,
            description="Browser user agent",
            required=False,
            pii=PiiClass.QUASI,
            treatment=Treatment.DROP,
        ),
    ),
)

FX_RATES = Contract(
    name="fx_rates",
    description="Daily reference exchange rates, KRW per unit of each currency (ECB cross rates).",
    origin="external feed",
    primary_key=("rate_date", "currency"),
    partition_key="rate_year",
    partition_source="rate_date",
    fields=(
        Field(name="rate_date", type=DATE, description="Business day of the rate", unit="date"),
        Field(name="currency", type=STR, description="Foreign currency", format="iso_currency"),
        Field(
            name="krw_per_unit",
            type=DBL,
            description="KRW for one unit of the currency",
            minimum=0,
            unit="KRW",
        ),
        Field(
            name="source", type=STR, description="Publisher of the reference rate", allowed=("ECB",)
        ),
    ),
)

COMMODITY_PRICES = Contract(
    name="commodity_prices",
    description="Daily prices of crude oil and raw materials.",
    origin="external feed",
    primary_key=("price_date", "commodity"),
    partition_key="price_year",
    partition_source="price_date",
    fields=(
        Field(name="price_date", type=DATE, description="Trading day", unit="date"),
        Field(
            name="commodity",
            type=STR,
            description="Commodity",
            allowed=(
                "brent_crude",
                "wti_crude",
                "dubai_crude",
                "copper",
                "aluminium",
                "nickel",
                "iron_ore",
                "natural_rubber",
                "cotton",
                "polyethylene",
            ),
        ),
        Field(
            name="price_usd",
            type=DBL,
            description="Price",
            minimum=0,
            unit="USD per barrel (crude) or per tonne",
        ),
        Field(
            name="unit",
            type=STR,
            description="Quantity the price is for",
            allowed=("barrel", "tonne"),
        ),
    ),
)

COUNTRY_RISK = Contract(
    name="country_risk",
    description="Foreign-ministry travel advisories: crisis level per country over time.",
    origin="external feed",
    primary_key=("country_code", "effective_date"),
    partition_key="effective_year",
    partition_source="effective_date",
    fields=(
        Field(name="country_code", type=STR, description="Country", format="iso_country"),
        Field(
            name="effective_date",
            type=DATE,
            description="Date the level was published or observed in effect",
            unit="date",
        ),
        Field(
            name="advisory_level",
            type=INT,
            description="0 none, 1 caution, 2 restrain travel, 3 leave, 4 travel ban",
            minimum=0,
            maximum=4,
            unit="level",
        ),
        Field(
            name="cause",
            type=STR,
            description="Main cause, where the advisory states one",
            required=False,
            allowed=("none", "war", "terror", "unrest", "disaster", "epidemic"),
        ),
    ),
)

TRADE_FLOWS = Contract(
    name="trade_flows",
    description="Yearly trade by reporter, partner and HS code (UN Comtrade style).",
    origin="external feed",
    primary_key=("reporter_code", "partner_code", "hs_code", "year", "flow"),
    partition_key="year_partition",
    partition_source="year",
    fields=(
        Field(
            name="reporter_code", type=STR, description="Reporting country", format="iso_country"
        ),
        Field(name="partner_code", type=STR, description="Partner country", format="iso_country"),
        Field(name="hs_code", type=STR, description="HS code (2, 4 or 6 digits)", format="hs_any"),
        Field(
            name="year",
            type=INT,
            description="Calendar year",
            minimum=FIRST_YEAR,
            maximum=LAST_YEAR,
            unit="year",
        ),
        Field(
            name="flow",
            type=STR,
            description="Direction seen from the reporter",
            allowed=("import", "export"),
        ),
        Field(name="trade_value_usd", type=DBL, description="Trade value", minimum=0, unit="USD"),
        Field(
            name="net_weight_kg",
            type=DBL,
            description="Net weight",
            minimum=0,
            required=False,
            unit="kg",
        ),
    ),
)

QUARANTINE = Contract(
    name="quarantine",
    description="Records that broke their contract, with the reason; personal data treated.",
    origin="derived",
    zone="quarantine",
    primary_key=("dataset", "record_hash"),
    partition_key="quarantine_date",
    partition_source="quarantined_at",
    partition_granularity="day",
    fields=(
        Field(
            name="dataset",
            type=STR,
            description="Contract the record was checked against",
            format="identifier",
        ),
        Field(name="run_id", type=STR, description="ETL run that rejected it", format="identifier"),
        Field(
            name="reason_code",
            type=STR,
            description="First violation as '<field>: <code>', for grouping",
        ),
        Field(name="reason", type=STR, description="Every violation, readable"),
        Field(name="source_file", type=STR, description="Raw object the record came from"),
        Field(
            name="record",
            type=STR,
            description="The rejected record as JSON, personal data pseudonymised or dropped",
            pii=PiiClass.FREE_TEXT,
        ),
        Field(
            name="record_hash",
            type=STR,
            description="SHA-256 of the raw line: a replayed rejection is stored once",
        ),
        Field(
            name="quarantined_at",
            type=TS,
            description="When the run rejected it",
            unit="timestamp, UTC",
        ),
    ),
)
