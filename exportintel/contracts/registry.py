"""The registry of contracts: declaring a dataset means registering its contract here."""

from __future__ import annotations

from exportintel.contracts import continuity, datasets, markets, matching
from exportintel.contracts.model import Contract

_REGISTRY: dict[str, Contract] = {}


def register(contract: Contract) -> Contract:
    """Add a contract; tables, validation and documentation follow from the registry."""
    if contract.name in _REGISTRY and _REGISTRY[contract.name] is not contract:
        raise ValueError(f"a contract named {contract.name!r} is already registered")
    _REGISTRY[contract.name] = contract
    return contract


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def all_contracts() -> tuple[Contract, ...]:
    """Every registered contract, in name order (stable for generated files)."""
    return tuple(_REGISTRY[name] for name in sorted(_REGISTRY))


def get_contract(name: str) -> Contract:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"no contract named {name!r}; known: {known}") from None


for _contract in (
    datasets.EXPORTERS,
    datasets.BUYERS,
    datasets.FIRM_FINANCIALS,
    datasets.CREDIT_EVALUATIONS,
    datasets.MATCH_HISTORY,
    datasets.FAIR_PARTICIPATION,
    datasets.EXPORT_HISTORY,
    datasets.WEB_EVENTS,
    datasets.FX_RATES,
    datasets.COMMODITY_PRICES,
    datasets.COUNTRY_RISK,
    datasets.TRADE_FLOWS,
    datasets.QUARANTINE,
    *continuity.CONTRACTS,
    *matching.CONTRACTS,
    *markets.CONTRACTS,
):
    register(_contract)
