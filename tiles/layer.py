"""What one map layer is: (dataset, time step, sector, variable), and the parsing of its request values.

A time step is a UTC day (``2024-03-01``), a monthly mean (``2024-03``) or an annual mean
(``2024``) over the cube's days in that period.

Errors are the contract's: ``BadTileRequest`` (a ``ContractError``, so a ValueError -> 422) for
malformed input, ``TileNotFound`` (a LookupError -> 404) for a tile outside the tile matrix set or
the grid.  Unknown datasets and dates come from :mod:`carbonmap.registry` (LookupError -> 404).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from dataclasses import dataclass

from cachetools import LRUCache

from carbonmap import contract as cc
from carbonmap.errors import NotFound
from carbonmap.registry import Cube, DateOutOfRange

VARIABLES: tuple[str, ...] = (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR)
"""Gridded variables a layer can show."""

LAYER_SECTORS: tuple[str, ...] = (cc.TOTAL, *cc.SECTORS)
"""Sector values a layer accepts (``total`` = the sum of the 7)."""

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_RE = re.compile(r"^(\d{4})$")
FREQS: tuple[str, ...] = ("day", "month", "year")


class BadTileRequest(cc.ContractError):
    """A tile/legend parameter is malformed (answered 422)."""


class TileNotFound(NotFound):
    """The tile is outside the tile matrix set or the dataset's grid (answered 404)."""


def parse_date(text: str) -> dt.date:
    """Parse ``YYYY-MM-DD``; BadTileRequest with an example otherwise."""
    try:
        if not _DATE_RE.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadTileRequest(f"date {text!r} is not a calendar date; use YYYY-MM-DD, e.g. date=2024-03-01") from None


@dataclass(frozen=True)
class TimeStep:
    """A day, or the mean over a calendar month or year, identified by its first day."""

    freq: str
    start: dt.date

    @property
    def label(self) -> str:
        """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (as in requests and the pyramid)."""
        return {"day": self.start.isoformat(), "month": self.start.strftime("%Y-%m"),
                "year": f"{self.start.year:04d}"}[self.freq]

    @property
    def end(self) -> dt.date:
        """Last day of the step (inclusive)."""
        if self.freq == "day":
            return self.start
        if self.freq == "month":
            nxt = dt.date(self.start.year + (self.start.month == 12), self.start.month % 12 + 1, 1)
            return nxt - dt.timedelta(days=1)
        return dt.date(self.start.year, 12, 31)

    def days_in(self, cube: Cube, memo: CubeDays | None = None) -> list[dt.date]:
        """The cube's days inside the step (DateOutOfRange if there are none); ``memo``: the owner's
        :class:`CubeDays` (None: the cube's days are listed afresh)."""
        all_days = memo.of(cube) if memo is not None else cube_days(cube)
        if self.freq == "day":
            if self.start not in all_days:
                cube.day_index(self.start)  # raises DateOutOfRange with the covered range
            return [self.start]
        days = [d for d in all_days if self.start <= d <= self.end]
        if not days:
            kind = "month" if self.freq == "month" else "year"
            raise DateOutOfRange(f"{kind} {self.label} has no days in dataset {cube.id!r}, which covers "
                                 f"{cube.start.isoformat()} to {cube.end.isoformat()}")
        return days


def cube_days(cube: Cube) -> dict[dt.date, int]:
    """The cube's days -> time index (computed; :class:`CubeDays` keeps them)."""
    return {t.date(): i for i, t in enumerate(cube.times)}


class CubeDays:
    """:func:`cube_days` memoised per cube version (a dict lookup per request instead of a pandas index search),
    an LRU of ``max_items`` versions owned by one tile factory (its :class:`~tiles.fields.FieldCache`), so two
    apps never share one."""

    def __init__(self, max_items: int = 64) -> None:
        self._items: LRUCache[tuple[str, str], dict[dt.date, int]] = LRUCache(maxsize=max(1, max_items))
        self._lock = threading.Lock()

    def of(self, cube: Cube) -> dict[dt.date, int]:
        key = (cube.id, cube_version(cube))
        with self._lock:
            days = self._items.get(key)  # a hit is the most recently used
        if days is None:
            days = cube_days(cube)
            with self._lock:
                self._items[key] = days
        return days

    def __len__(self) -> int:
        return len(self._items)


def parse_time(text: str) -> TimeStep:
    """Parse ``YYYY-MM-DD`` (a day), ``YYYY-MM`` (monthly mean) or ``YYYY`` (annual mean)."""
    text = text.strip()
    try:
        if _DATE_RE.match(text):
            return TimeStep("day", dt.date.fromisoformat(text))
        if m := _MONTH_RE.match(text):
            return TimeStep("month", dt.date(int(m[1]), int(m[2]), 1))
        if m := _YEAR_RE.match(text):
            return TimeStep("year", dt.date(int(m[1]), 1, 1))
    except ValueError:
        pass
    raise BadTileRequest(f"date {text!r} is not a calendar date, month or year; use YYYY-MM-DD (a day), "
                         "YYYY-MM (monthly mean) or YYYY (annual mean), e.g. date=2024-03-01")


def validate_variable(name: str) -> str:
    if name not in VARIABLES:
        raise BadTileRequest(f"unknown variable {name!r}; use one of: {', '.join(VARIABLES)}")
    return name


def cube_version(cube: Cube) -> str:
    """A token that changes whenever the served store is rebuilt (its build time) or another release
    of it is served (the release id is appended)."""
    attrs = cube.attrs
    token = str(attrs.get("provenance_build_time") or attrs.get("date_created") or os.stat(cube.path).st_mtime_ns)
    release = getattr(cube, "release", None)
    return f"{token}@{release}" if release else token


@dataclass(frozen=True)
class Layer:
    """One renderable field: dataset id, time step (a day given as a date is a daily step),
    sector (or ``total``) and variable."""

    dataset: str
    step: TimeStep
    sector: str = cc.TOTAL
    variable: str = cc.EMISSIONS_VAR

    def __post_init__(self) -> None:
        if isinstance(self.step, dt.date):
            object.__setattr__(self, "step", TimeStep("day", self.step))

    @property
    def day(self) -> dt.date:
        """First day of the step (the day itself for daily layers)."""
        return self.step.start

    @classmethod
    def of(cls, cube: Cube, when: dt.date | TimeStep, sector: str, variable: str, memo: CubeDays | None = None
           ) -> Layer:
        """Validate against the cube: DateOutOfRange (404), ContractError/BadTileRequest (422).  ``memo``: the
        caller's :class:`CubeDays` (the tile factory passes its own; None: the days are listed afresh)."""
        cc.validate_sector(sector)
        validate_variable(variable)
        if sector == cc.TOTAL and variable != cc.EMISSIONS_VAR:
            raise BadTileRequest("sector=total is defined for emissions only; pick one of the 7 sectors "
                                 "to map uncertainty")
        step = when if isinstance(when, TimeStep) else TimeStep("day", when)
        step.days_in(cube, memo)
        return cls(cube.id, step, sector, variable)
