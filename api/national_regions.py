"""Regions answered from the national table: countries (ISO3), XIA/XIS bunkers and the world (WLD).

A country here is its **national inventory territory**: the ``national_emissions`` row the grid
was downscaled from and conserves (GCB national territorial fossil CO2, split into sectors).
It excludes international aviation and shipping bunkers, which GCB reports separately as the
pseudo-countries XIA and XIS.  ``WLD`` is every country plus XIA and XIS.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from carbonmap import contract as cc
from carbonmap.errors import NotFound

WORLD = "WLD"

COUNTRY_DEFINITION = (
    "national inventory territory: the country's row of the dataset's national_emissions table "
    "(Global Carbon Budget territorial fossil CO2, split into sectors), which the gridded map conserves "
    "exactly; international aviation and shipping bunkers are not part of any country (see XIA, XIS)"
)
WORLD_DEFINITION = (
    "the world: the sum of every country's national inventory territory plus international aviation "
    "(XIA) and international shipping (XIS) bunkers, i.e. the sum of the national_emissions table"
)
BUNKER_DEFINITION = (
    "international {what} bunkers, reported by the Global Carbon Budget as the pseudo-country {code} and "
    "spread over the grid as the {sector} sector; not part of any country"
)


class RegionNotFound(NotFound):
    """A region id the dataset has no national total for."""


RegionType = Literal["country", "international", "world"]


@dataclass(frozen=True)
class NationalRegion:
    """A region whose totals are rows of the national table."""

    id: str
    type: RegionType
    countries: tuple[str, ...]
    """Codes on the cube's ``country`` axis whose rows are summed."""
    definition: str


def close_codes(code: str, available: Sequence[str], n: int = 5) -> list[str]:
    """Up to ``n`` codes from ``available`` that look like ``code`` (for error messages)."""
    code = code.upper()
    found = difflib.get_close_matches(code, available, n=n, cutoff=0.3)
    for c in sorted(available):
        if len(found) >= n:
            break
        if c not in found and c[:1] == code[:1]:
            found.append(c)
    return found


def resolve(code: str, available: Sequence[str], dataset_id: str) -> NationalRegion:
    """The region for an ISO3 code, ``XIA``/``XIS`` or ``WLD`` in a dataset with countries ``available``."""
    code = code.strip().upper()
    if code == WORLD:
        return NationalRegion(WORLD, "world", tuple(available), WORLD_DEFINITION)
    if code not in available:
        near = close_codes(code, available)
        hint = f"close codes: {', '.join(near)}" if near else "no close code"
        raise RegionNotFound(
            f"unknown country {code!r} in dataset {dataset_id!r} ({hint}); use an ISO 3166-1 alpha-3 code "
            f"listed under 'countries' by GET /datasets/{dataset_id}, or WLD for the world")
    for sector, bunker in cc.INTERNATIONAL_SECTORS.items():
        if code == bunker:
            what = sector.replace("international_", "")
            return NationalRegion(code, "international", (code,),
                                  BUNKER_DEFINITION.format(what=what, code=code, sector=sector))
    return NationalRegion(code, "country", (code,), COUNTRY_DEFINITION)
