"""The revision history of a store, read only: list releases, find the release as of a time, diff two releases.

For the API (``/datasets/{id}/releases``, ``?release=``, diffs): :func:`list_releases` returns JSON-ready
:class:`ReleaseInfo` records (newest first), :func:`release_as_of` answers "which release was current at time T",
:func:`diff` compares the national daily tables of two releases (t CO2, per day and sector, and per country).
Pruning (a write) is ``pipelines/releases.py``.

Every function takes a local store path or an object-store URL (``s3://bucket/prefix``): the history is the
chain of ``release.json`` manifests reachable from the current release (the symlink, or the ``CURRENT`` object)
through their ``parent`` links.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from carbonmap import contract as cc
from carbonmap.errors import NotFound
from carbonmap.storage import cube as store
from carbonmap.storage.location import location


@dataclass(frozen=True)
class ReleaseInfo:
    """One published release: id, creation time (UTC ISO), kind (build|update), parent, the days it
    added and revised as [first, last] ranges, the period it covers and whether it is current."""

    id: str
    created: str
    kind: str
    parent: str | None
    days_added: list[list[str]]
    days_revised: list[list[str]]
    reason: str
    current: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def as_target(path: store.Target) -> store.Target:
    return location(path).target


def list_releases(path: store.Target) -> list[ReleaseInfo]:
    """The published releases of the store at ``path``, newest first (walks the parent chain)."""
    out = []
    for i, (rid, m) in enumerate(store.published_manifests(as_target(path))):
        out.append(ReleaseInfo(rid, str(m.get("created", "")), str(m.get("kind", "build")), m.get("parent"),
                               list(m.get("days_added", [])), list(m.get("days_revised", [])),
                               str(m.get("reason", "")), i == 0))
    return out


def release_as_of(path: store.Target, when: dt.datetime) -> str:
    """The id of the release that was current at ``when`` (UTC); LookupError before the first."""
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    for info in list_releases(path):
        if dt.datetime.fromisoformat(info.created) <= when:
            return info.id
    raise NotFound(f"no release of {str(path).rstrip('/').rsplit('/', 1)[-1]} existed at {when.isoformat()}")


@dataclass(frozen=True)
class ReleaseDiff:
    """Differences of release ``b`` against ``a``: days only in b, days whose national values differ,
    and a tidy table of the changed (date, sector, country) values in t CO2."""

    a: str
    b: str
    days_added: list[str]
    days_removed: list[str]
    days_revised: list[str]
    table: pd.DataFrame
    """columns date, sector, country, a_t, b_t, change_t (rows with a change only)."""

    @property
    def total_change_t(self) -> float:
        return float(self.table["change_t"].sum()) if len(self.table) else 0.0

    def to_json(self, max_rows: int = 1000) -> dict[str, Any]:
        rows = self.table.head(max_rows).to_dict(orient="records")
        return {"a": self.a, "b": self.b, "days_added": self.days_added, "days_removed": self.days_removed,
                "days_revised": self.days_revised, "total_change_t": self.total_change_t,
                "changes": rows, "truncated": len(self.table) > max_rows}


def diff(path: store.Target, a: str, b: str, rtol: float = 1e-9) -> ReleaseDiff:
    """Compare the national daily tables of releases ``a`` and ``b`` of the store at ``path``."""
    path = as_target(path)
    da, db = store.open_cube(path, a), store.open_cube(path, b)
    ta, tb = pd.DatetimeIndex(da["time"].values), pd.DatetimeIndex(db["time"].values)
    common = ta.intersection(tb)
    va = da[cc.NATIONAL_VAR].sel(time=common)
    vb = db[cc.NATIONAL_VAR].sel(time=common)
    countries = sorted(set(map(str, va["country"].values)) | set(map(str, vb["country"].values)))
    xa = va.reindex(country=countries, fill_value=0.0).values.astype(np.float64) / 1000.0
    xb = vb.reindex(country=countries, fill_value=0.0).values.astype(np.float64) / 1000.0
    changed = ~np.isclose(xa, xb, rtol=rtol, atol=0.0)
    t, s, c = np.nonzero(changed)
    table = pd.DataFrame({"date": [f"{common[i]:%Y-%m-%d}" for i in t], "sector": [cc.SECTORS[i] for i in s],
                          "country": [countries[i] for i in c], "a_t": xa[t, s, c], "b_t": xb[t, s, c]})
    table["change_t"] = table["b_t"] - table["a_t"]
    revised = sorted({f"{common[i]:%Y-%m-%d}" for i in t})
    da.close()
    db.close()
    return ReleaseDiff(a, b, [f"{d:%Y-%m-%d}" for d in tb.difference(ta)],
                       [f"{d:%Y-%m-%d}" for d in ta.difference(tb)], revised, table)
