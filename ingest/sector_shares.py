"""National sector shares (power, industry, ground_transport, residential, domestic_aviation).

:func:`national_sector_shares` turns EDGAR (first) and CAIT (where EDGAR lacks a country) into one
share per country and national sector, from the latest available year per country, with a global
mean fallback.  The rules are documented in ``docs/sector_map.md`` (rendered from
:mod:`ingest.sector_map`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from carbonmap.contract import NATIONAL_SECTORS
from ingest.base import IngestError
from ingest.edgar import BUNKER_CODES, EDGAR_GROUPS
from ingest.sector_map import SECTOR_MAP, mapping_for


def _to_national(long: pd.DataFrame, inventory: str, code_col: str) -> pd.DataFrame:
    """(code, year) x NATIONAL_SECTORS, Mt CO2 yr-1, through the sector map; negatives clipped to 0."""
    m = mapping_for(inventory)
    rows = []
    for inv_sector, targets in m.items():
        part = long[long["sector"] == inv_sector]
        for tgt, frac in targets.items():
            rows.append(pd.DataFrame({"code": part[code_col].to_numpy(), "year": part["year"].to_numpy(),
                                      "sector": tgt, "value": part["emissions"].clip(lower=0).to_numpy() * frac}))
    if not rows:
        raise IngestError(f"{inventory}: none of the mapped sectors is present")
    cat = pd.concat(rows, ignore_index=True)
    wide = cat.pivot_table(index=["code", "year"], columns="sector", values="value", aggfunc="sum", fill_value=0.0)
    return wide.reindex(columns=list(NATIONAL_SECTORS), fill_value=0.0)


def _latest_shares(wide: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Shares from each code's latest year with a positive total, and that year."""
    tot = wide.sum(axis=1)
    ok = wide[tot > 0]
    latest = ok.reset_index().sort_values("year").groupby("code").tail(1).set_index("code")
    years = latest.pop("year").astype(int)
    shares = latest.div(latest.sum(axis=1), axis=0)
    return shares, years


def national_sector_shares(edgar: pd.DataFrame, cait: pd.DataFrame | None = None,
                           countries: Iterable[str] | None = None, inventory: str = "edgar_v5") -> pd.DataFrame:
    """Sector shares per country: index ``iso3``, columns NATIONAL_SECTORS, rows sum to 1 (dimensionless).

    ``edgar`` is :func:`ingest.edgar.read_edgar_v5`'s table (``inventory="edgar_v5"``, the default) or
    :func:`ingest.edgar_current.read_edgar_current`'s (``inventory="edgar_2024"``); ``inventory`` names its
    rows in :data:`ingest.sector_map.SECTOR_MAP`.  ``cait`` is :func:`ingest.cait.read_cait`'s table.
    ``countries`` (e.g. GCB's iso3 codes without WLD/XIA/XIS) adds rows for countries in neither
    inventory, filled with the global mean and listed in ``attrs['fallback_iso3']``.
    attrs also hold ``source`` (iso3 -> ``inventory`` | 'cait' | 'global_mean'), ``year`` (iso3 -> year
    the shares come from) and ``global_mean`` (sector -> share).
    """
    need = {"code", "sector", "year", "emissions"}
    if not need <= set(edgar.columns):
        raise IngestError(f"EDGAR table lacks {sorted(need - set(edgar.columns))}")
    if not inventory.startswith("edgar"):
        raise IngestError(f"inventory must name an EDGAR table of the sector map (e.g. 'edgar_v5'), got {inventory!r}")
    try:
        mapping_for(inventory)
    except KeyError:
        raise IngestError(f"no sector map for inventory {inventory!r}") from None
    e = edgar[~edgar["code"].isin(BUNKER_CODES)]
    unmapped = sorted(set(e["sector"]) - {r.inventory_sector for r in SECTOR_MAP if r.inventory == inventory})
    if unmapped:
        raise IngestError(f"EDGAR sector(s) {unmapped} are not in the {inventory!r} sector map; wrong inventory?")
    ewide = _to_national(e, inventory, "code")
    eshares, eyears = _latest_shares(ewide)

    # global mean: emission-weighted over all EDGAR codes in their latest year
    last = ewide.reset_index().sort_values("year").groupby("code").tail(1)
    gsum = last[list(NATIONAL_SECTORS)].sum()
    global_mean = gsum / gsum.sum()

    # expand grouped codes to members
    rows: dict[str, pd.Series] = {}
    source: dict[str, str] = {}
    year: dict[str, int] = {}
    for code, sh in eshares.iterrows():
        for iso in EDGAR_GROUPS.get(str(code), (str(code),)):
            if iso not in rows or str(code) == iso:  # a country's own row beats a group row
                rows[iso] = sh
                source[iso] = inventory
                year[iso] = int(eyears[code])
    if cait is not None:
        if not {"iso3", "sector", "year", "emissions"} <= set(cait.columns):
            raise IngestError("CAIT table lacks iso3/sector/year/emissions")
        cwide = _to_national(cait, "cait", "iso3")
        cshares, cyears = _latest_shares(cwide)
        for iso, sh in cshares.iterrows():
            if iso not in rows:
                rows[str(iso)] = sh
                source[str(iso)] = "cait"
                year[str(iso)] = int(cyears[iso])
    fallback: list[str] = []
    for iso in countries or ():
        if iso not in rows and iso not in ("WLD", "XIA", "XIS"):
            rows[iso] = global_mean
            source[iso] = "global_mean"
            fallback.append(iso)
    out = pd.DataFrame(rows).T.reindex(columns=list(NATIONAL_SECTORS)).astype("float64").sort_index()
    out.index.name = "iso3"
    out = out.div(out.sum(axis=1), axis=0)
    if not np.allclose(out.sum(axis=1), 1.0, atol=1e-12) or (out < 0).to_numpy().any():
        raise IngestError("sector shares do not sum to 1 per country")  # pragma: no cover
    out.attrs.update({
        "fallback_iso3": sorted(fallback),
        "source": {k: source[k] for k in out.index},
        "year": {k: year[k] for k in out.index if k in year},
        "global_mean": {k: float(v) for k, v in global_mean.items()},
        "inventory": inventory,
        "rule": f"latest year with a positive total per country, carried forward unchanged; {'EDGAR v5' if inventory == 'edgar_v5' else inventory} first, "
                "CAIT where EDGAR lacks the country, emission-weighted global mean otherwise",
        "units": "1",
    })
    return out
