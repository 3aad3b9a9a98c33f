"""The agency's directory extracts: the exporters and buyers records as the database holds them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from exportintel.contracts.datasets import KOREAN_REGIONS
from exportintel.generate import people
from exportintel.generate.common import TODAY, rng_for
from exportintel.generate.firms import Buyers, Exporters, buyer_names, exporter_names
from exportintel.generate.products import PRODUCTS
from exportintel.generate.writer import seoul_timestamps, with_nulls
from exportintel.reference.countries import PARTNERS

CHUNK = 100_000
CONTACT_MISSING = 0.04  # each contact field is empty this often


def exporter_chunks(seed: int, exporters: Exporters) -> Iterator[dict[str, list[Any]]]:
    for c, start in enumerate(range(0, exporters.n, CHUNK)):
        rng = rng_for(seed, "exporters_records", c)
        rows = np.arange(start, min(start + CHUNK, exporters.n))
        n = len(rows)
        names, domains = exporter_names(rng, exporters.sector[rows])
        regions = [KOREAN_REGIONS[r] for r in exporters.region[rows].tolist()]
        contacts = people.korean_contacts(rng, regions, domains)
        reg = rng.integers(0, 10**10, n).tolist()
        yield {
            "firm_id": exporters.ids[start : start + n],
            "business_reg_no": [
                f"{r // 10**7 % 899 + 101:03d}-{r // 10**5 % 100:02d}-{r % 10**5:05d}" for r in reg
            ],
            "firm_name": names,
            "region": regions,
            "hs_codes": _codes(exporters.hs6[rows]),
            "product_names": with_nulls(
                _product_names(rng, exporters.products[rows]), rng.random(n) < 0.05
            ),
            "price_min_usd": exporters.price_lo[rows].tolist(),
            "price_max_usd": exporters.price_hi[rows].tolist(),
            "monthly_capacity_units": exporters.capacity[rows].tolist(),
            "founding_year": exporters.founding[rows].tolist(),
            **_contact_columns(rng, contacts),
            "updated_at": _updated_at(rng, exporters.joined[rows]),
        }


def buyer_chunks(
    seed: int, buyers: Buyers, currencies: list[str]
) -> Iterator[dict[str, list[Any]]]:
    countries = [p.code for p in PARTNERS]
    for c, start in enumerate(range(0, buyers.n, CHUNK)):
        rng = rng_for(seed, "buyers_records", c)
        rows = np.arange(start, min(start + CHUNK, buyers.n))
        n = len(rows)
        codes = [countries[k] for k in buyers.country[rows].tolist()]
        city_pick = rng.integers(0, 100, n).tolist()
        cities = [
            PARTNERS[k].cities[i % len(PARTNERS[k].cities)]
            for k, i in zip(buyers.country[rows].tolist(), city_pick, strict=True)
        ]
        names, domains = buyer_names(rng, codes, cities)
        contacts = people.foreign_contacts(rng, codes, domains)
        yield {
            "buyer_id": buyers.ids[start : start + n],
            "buyer_name": names,
            "country_code": codes,
            "currency": currencies[start : start + n],
            "hs_codes_wanted": _codes(buyers.hs6[rows]),
            "products_wanted": with_nulls(
                _product_names(rng, buyers.products[rows]), rng.random(n) < 0.1
            ),
            "desired_price_min_usd": buyers.price_lo[rows].tolist(),
            "desired_price_max_usd": buyers.price_hi[rows].tolist(),
            "desired_volume_units": buyers.volume[rows].tolist(),
            "annual_revenue_usd": with_nulls(buyers.revenue[rows], rng.random(n) < 0.15),
            "founding_year": buyers.founding[rows].tolist(),
            "employees": with_nulls(buyers.employees[rows], rng.random(n) < 0.2),
            "bad_credit": buyers.bad_credit[rows].tolist(),
            **_contact_columns(rng, contacts),
            "updated_at": _updated_at(rng, buyers.joined[rows]),
        }


def _codes(hs6: np.ndarray) -> list[list[str]]:
    return [[f"{h:06d}" for h in row if h >= 0] for row in hs6.tolist()]


def _product_names(rng: np.random.Generator, products: np.ndarray) -> list[list[str]]:
    pick = rng.integers(0, 1000, products.shape).tolist()
    return [
        [
            PRODUCTS[p].names[k % len(PRODUCTS[p].names)]
            for p, k in zip(row, ks, strict=True)
            if p >= 0
        ]
        for row, ks in zip(products.tolist(), pick, strict=True)
    ]


def _contact_columns(
    rng: np.random.Generator, contacts: dict[str, list[str]]
) -> dict[str, list[Any]]:
    n = len(contacts["name"])
    return {
        f"contact_{key}": with_nulls(contacts[key], rng.random(n) < CONTACT_MISSING)
        for key in ("name", "phone", "email", "address")
    }


def _updated_at(rng: np.random.Generator, joined: np.ndarray) -> list[str]:
    """A moment between the later of joining and 2023, and today's start in Seoul."""
    start = np.array([f"{max(int(y), 2023)}-01-01" for y in joined.tolist()], dtype="datetime64[s]")
    end = np.datetime64(TODAY).astype("datetime64[s]") - np.timedelta64(9, "h")
    span = (end - start).astype(np.int64)
    moment = start + (rng.random(len(joined)) * span).astype(np.int64)
    return seoul_timestamps(moment)
