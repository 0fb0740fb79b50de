"""What one map layer is: (dataset, day, sector, variable), and the parsing of its request values.

Errors are the contract's: ``BadTileRequest`` (a ``ContractError``, so a ValueError -> 422) for
malformed input, ``TileNotFound`` (a LookupError -> 404) for a tile outside the tile matrix set or
the grid.  Unknown datasets and dates come from :mod:`carbonmap.registry` (LookupError -> 404).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from carbonmap import contract as cc
from carbonmap.registry import Cube

VARIABLES: tuple[str, ...] = (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR)
"""Gridded variables a layer can show."""

LAYER_SECTORS: tuple[str, ...] = (cc.TOTAL, *cc.SECTORS)
"""Sector values a layer accepts (``total`` = the sum of the 7)."""

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadTileRequest(cc.ContractError):
    """A tile/legend parameter is malformed (answered 422)."""


class TileNotFound(LookupError):
    """The tile is outside the tile matrix set or the dataset's grid (answered 404)."""


def parse_date(text: str) -> dt.date:
    """Parse ``YYYY-MM-DD``; BadTileRequest with an example otherwise."""
    try:
        if not _DATE_RE.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadTileRequest(f"date {text!r} is not a calendar date; use YYYY-MM-DD, e.g. date=2024-03-01") from None


def validate_variable(name: str) -> str:
    if name not in VARIABLES:
        raise BadTileRequest(f"unknown variable {name!r}; use one of: {', '.join(VARIABLES)}")
    return name


def cube_version(cube: Cube) -> str:
    """A token that changes whenever the served store is rebuilt (its build time)."""
    attrs = cube.attrs
    return str(attrs.get("provenance_build_time") or attrs.get("date_created") or cube.path.stat().st_mtime_ns)


@dataclass(frozen=True)
class Layer:
    """One renderable field: dataset id, UTC day, sector (or ``total``) and variable."""

    dataset: str
    day: dt.date
    sector: str = cc.TOTAL
    variable: str = cc.EMISSIONS_VAR

    @classmethod
    def of(cls, cube: Cube, day: dt.date, sector: str, variable: str) -> Layer:
        """Validate against the cube: DateOutOfRange (404), ContractError/BadTileRequest (422)."""
        cc.validate_sector(sector)
        validate_variable(variable)
        if sector == cc.TOTAL and variable != cc.EMISSIONS_VAR:
            raise BadTileRequest("sector=total is defined for emissions only; pick one of the 7 sectors "
                                 "to map uncertainty")
        cube.day_index(day)
        return cls(cube.id, day, sector, variable)
