"""Dataset contracts: declared once, everything else derived from them."""

from exportintel.contracts.model import Contract, Field, FieldType, PiiClass, Treatment
from exportintel.contracts.registry import all_contracts, get_contract, register, unregister

__all__ = [
    "Contract",
    "Field",
    "FieldType",
    "PiiClass",
    "Treatment",
    "all_contracts",
    "get_contract",
    "register",
    "unregister",
]
