"""Contracts of the matching tables: weighted interactions and stored recommendations.

Derived tables (`origin="derived"`), written whole by their jobs (exportintel.matching).
"""

from __future__ import annotations

from exportintel.contracts.model import Contract

CONTRACTS: tuple[Contract, ...] = ()
