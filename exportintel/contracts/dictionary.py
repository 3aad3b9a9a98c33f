"""The data dictionary (docs/data-dictionary.md), rendered from the contracts.

Never edit the Markdown by hand: `exportintel dictionary` rewrites it and a test fails when the
committed file differs from what the contracts say.
"""

from __future__ import annotations

from collections.abc import Sequence

from exportintel.contracts.formats import FORMATS
from exportintel.contracts.model import Contract, Field
from exportintel.contracts.registry import all_contracts
from exportintel.contracts.tables import RAW_DATE_KEY

HEADER = f"""# Data dictionary

Generated from the dataset contracts in `exportintel/contracts/` by `exportintel dictionary`.
Do not edit by hand: a test fails when this file and the contracts disagree.

Classes: **personal direct identifier** (names, phones, e-mails, addresses of contact persons,
user and cookie ids: pseudonymised with a keyed hash or dropped before the curated zone),
**personal quasi-identifier** (identifies a person only combined with other data),
**business identifier** (firm names and ids: kept, staff search by them), **free text**
(scrubbed of phone numbers and e-mail addresses), **none**.

Raw data lands as JSON Lines under `s3://<raw bucket>/<dataset>/{RAW_DATE_KEY}=yyyy-MM-dd/`
(platform only). Curated data is Parquet under `s3://<curated bucket>/<dataset>/` in the
curated Glue database, which analysts query with Athena.
"""


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rule(field: Field) -> str:
    rules = []
    if field.minimum is not None and field.maximum is not None:
        rules.append(f"{field.minimum:g} to {field.maximum:g}")
    elif field.minimum is not None:
        rules.append(f">= {field.minimum:g}")
    elif field.maximum is not None:
        rules.append(f"<= {field.maximum:g}")
    if field.allowed is not None:
        rules.append("one of " + ", ".join(f"`{v}`" for v in field.allowed))
    if field.format is not None:
        rules.append(FORMATS[field.format].description)
    return "; ".join(rules) or "-"


def render_contract(contract: Contract) -> str:
    lines = [
        f"## {contract.name}",
        "",
        contract.description,
        "",
        f"- Origin: {contract.origin}",
        f"- Primary key: {', '.join(f'`{k}`' for k in contract.primary_key)}",
    ]
    if contract.partition_key is not None:
        lines.append(
            f"- Curated partition: `{contract.partition_key}` "
            f"({contract.partition_granularity} of `{contract.partition_source}`)"
        )
    lines += [
        "",
        "| field | type | required | allowed values / format | unit | class | treatment "
        "| description |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in contract.fields:
        lines.append(
            f"| `{f.name}` | {f.type} | {'yes' if f.required else 'no'} | {_escape(_rule(f))} "
            f"| {_escape(f.unit or '-')} | {f.pii} | {f.effective_treatment} "
            f"| {_escape(f.description)} |"
        )
    return "\n".join(lines) + "\n"


def render_dictionary(contracts: Sequence[Contract] | None = None) -> str:
    chosen = all_contracts() if contracts is None else tuple(contracts)
    index = "\n".join(f"- [{c.name}](#{c.name}): {c.description}" for c in chosen)
    body = "\n".join(render_contract(c) for c in chosen)
    return f"{HEADER}\n{index}\n\n{body}"
