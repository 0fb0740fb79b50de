"""Per-country, per-year sector split of the national total from current data (issue #15, point 2).

The GCB annual national total stays the anchor and is conserved exactly; this module only decides how
each year's total divides between the five national sectors. The rules, in order (one table, rendered
into ``docs/methods.md`` by :func:`rules_markdown`):

=====================  ==================================================================================
sector                 rule
=====================  ==================================================================================
power                  the first source that has the country: (1) fossil generation by fuel x direct
                       emission factors (Carbon Monitor Power, complete years; :func:`generation_power_co2`);
                       (2) Ember electricity demand (TWh) x CO2 intensity (g CO2 kWh-1), Mt CO2 yr-1
                       (:func:`ember_power_co2`). For a year past a source's last, that source's power share of
                       its last year. Clipped to :data:`POWER_SHARE_BOUNDS` of the GCB total. Without any, the
                       inventory's power share.
industry (process)     GCB's own cement, flaring and "other" CO2 of the same year (process emissions)
industry, ground       the combustion rest (GCB total - power - process) split by the newest national
transport,             sector inventory that has the country: CEADs (China, by IPCC sector and fuel, 2019),
residential,           EDGAR v7.0's combustion sectors (2021: industrial combustion, buildings,
domestic aviation      transport), then the older shares (EDGAR v5 2018 / CAIT / global mean) that the
                       build already uses.
domestic aviation      measured domestic flights x :data:`CO2_T_PER_DOMESTIC_FLIGHT` where counted
                       (EUROCONTROL internal IFR flights: 40 European states), taken out of transport
                       (at most half of it); CEADs kerosene for China; else the inventory rule (5% of
                       transport: EDGAR has no separate domestic-aviation row in the shipped tables).
=====================  ==================================================================================

Ember's intensity is a life-cycle figure (it counts bioenergy and upstream emissions) and demand includes
net imports, so it comes second to generation by fuel; the clip keeps a country's power share plausible. All values are Mt CO2 yr-1; shares are dimensionless and sum to 1 per (year, country).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonmap.contract import NATIONAL_SECTORS
from carbonmap.errors import InvalidInput

POWER_SHARE_BOUNDS = (0.0, 0.85)
"""A country's power share of its GCB fossil total is kept inside these bounds (dimensionless)."""
NON_POWER = tuple(s for s in NATIONAL_SECTORS if s != "power")
CO2_T_PER_DOMESTIC_FLIGHT = 6.0
"""t CO2 per domestic IFR flight (assumed): an A320-family sector of ~600 km burns ~2 t of fuel (3.16 t CO2 per t);
regional turboprops burn less, longer island routes more."""
MAX_AVIATION_SHARE_OF_TRANSPORT = 0.5

RULES: tuple[tuple[str, str], ...] = (
    ("power", ("fossil generation by fuel x direct emission factors (Carbon Monitor Power, complete years), else "
              "Ember yearly demand x CO2 intensity (the source's last share after its last year), "
              f"clipped to {POWER_SHARE_BOUNDS[0]:.0%}-{POWER_SHARE_BOUNDS[1]:.0%} of the GCB total; "
              "else the inventory share")),
    ("industry (process)", "GCB cement + flaring + other CO2 of the same year"),
    ("industry, ground_transport, residential, domestic_aviation",
     ("GCB total minus power minus process CO2, split by the newest sector inventory of the country: CEADs 2019 "
     "(China), EDGAR v7.0 2021 combustion sectors, then EDGAR v5 2018 / CAIT / global mean")),
    ("domestic_aviation", ("EUROCONTROL internal IFR flights x 6 t CO2 per flight (40 European states, taken out of "
                          "transport); CEADs kerosene in transport (China); elsewhere 5% of transport (simplified "
                          "proxy)")),
    ("anchor", "the GCB 2025 national total of every inventory year is conserved exactly"),
)


class SplitError(InvalidInput):
    """The inputs of the sector split are inconsistent (missing columns, negative totals)."""


@dataclass(frozen=True)
class SectorSplit:
    """Shares per (year, iso3): ``shares`` index (year, iso3), columns NATIONAL_SECTORS, rows sum to 1;
    ``basis`` the same index, columns ``power`` and ``rest``: which rule gave the power figure and the rest."""

    shares: pd.DataFrame
    basis: pd.DataFrame

    def for_year(self, year: int) -> pd.DataFrame:
        """Shares of one year: index iso3, columns NATIONAL_SECTORS."""
        return self.shares.xs(year, level="year")

    def summary(self) -> str:
        """One line per rule with the number of (country, year) cells it decided."""
        parts = []
        for col in ("power", "rest"):
            counts = self.basis[col].value_counts()
            parts.append(f"{col}: " + ", ".join(f"{k} ({v})" for k, v in counts.items()))
        return "; ".join(parts)


def ember_power_co2(table: pd.DataFrame) -> pd.DataFrame:
    """Power-sector CO2 from Ember's yearly overview, Mt CO2 yr-1, dims (year, iso3).

    ``table``: the canonical activity table (:mod:`ingest.activity`) with yearly rows of ``demand`` (TWh)
    and ``power_co2_intensity`` (g CO2 kWh-1) per country (``region == ""``). TWh x g kWh-1 = 1e9 kWh x g
    kWh-1 = 1e3 t, so Mt = demand x intensity / 1000.
    """
    need = {"iso3", "region", "period", "frequency", "variable", "value"}
    if not need <= set(table.columns):
        raise SplitError(f"Ember table lacks {sorted(need - set(table.columns))}")
    t = table[(table["frequency"] == "yearly") & (table["region"].fillna("") == "")
              & table["variable"].isin(["demand", "power_co2_intensity"])]
    if t.empty:
        return pd.DataFrame(dtype=np.float64)
    wide = t.assign(year=pd.DatetimeIndex(t["period"]).year).pivot_table(
        index=["year", "iso3"], columns="variable", values="value", aggfunc="first")
    if not {"demand", "power_co2_intensity"} <= set(wide.columns):
        return pd.DataFrame(dtype=np.float64)
    mt = (wide["demand"] * wide["power_co2_intensity"] / 1000.0).dropna()
    out = mt.unstack("iso3").sort_index()
    out.index = out.index.astype(int)
    return out.astype(np.float64)


def generation_power_co2(monthly_co2: pd.DataFrame) -> pd.DataFrame:
    """Complete-year sums of a monthly power CO2 series (month, iso3) Mt month-1 -> (year, iso3) Mt yr-1."""
    if monthly_co2.empty:
        return pd.DataFrame(dtype=np.float64)
    idx = pd.DatetimeIndex(monthly_co2.index)
    g = monthly_co2.groupby(idx.year)
    out = g.sum(min_count=1).where(g.count() == 12)
    out.index = out.index.astype(int)
    return out.dropna(how="all").astype(np.float64)


def _normalise_rest(rest: pd.DataFrame) -> pd.DataFrame:
    r = rest.reindex(columns=list(NON_POWER)).fillna(0.0).clip(lower=0.0)
    tot = r.sum(axis=1)
    return r[tot > 0].div(tot[tot > 0], axis=0)


def inventory_rest_shares(sector_totals: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Non-power shares from an inventory's sector totals, from each country's newest year.

    ``sector_totals``: rows (iso3, year, sector, co2_mt) with sectors among NATIONAL_SECTORS plus ``other``
    (other sectors go to industry, as in :mod:`ingest.sector_map`). Returns (shares: index iso3, columns
    the non-power sectors, rows sum to 1; year: iso3 -> the inventory year used).
    """
    need = {"iso3", "year", "sector", "co2_mt"}
    if not need <= set(sector_totals.columns):
        raise SplitError(f"sector table lacks {sorted(need - set(sector_totals.columns))}")
    s = sector_totals.assign(sector=sector_totals["sector"].replace({"other": "industry"}))
    wide = s.pivot_table(index=["iso3", "year"], columns="sector", values="co2_mt", aggfunc="sum", fill_value=0.0)
    rest = wide.reindex(columns=list(NON_POWER), fill_value=0.0).clip(lower=0.0)
    rest = rest[rest.sum(axis=1) > 0]
    latest = rest.reset_index().sort_values("year").groupby("iso3").tail(1).set_index("iso3")
    years = latest.pop("year").astype(int)
    return _normalise_rest(latest), years


def sector_split(gcb_total: pd.DataFrame, years: Iterable[int], fallback: pd.DataFrame, *,
                 power: Sequence[tuple[str, pd.DataFrame]] = (),
                 inventories: Mapping[str, pd.DataFrame] | None = None,
                 process: pd.DataFrame | None = None,
                 aviation: pd.DataFrame | None = None) -> SectorSplit:
    """Sector shares per (year, country) from current data.

    ``gcb_total``: (year, iso3) GCB national totals, Mt CO2 yr-1 (NaN where absent). ``fallback``: the
    build's static shares (index iso3, columns NATIONAL_SECTORS, rows sum to 1), used for countries no
    newer source covers. ``power``: (label, (year, iso3) Mt CO2 yr-1) in order of preference, e.g.
    ``[("fossil generation x EF", generation_power_co2(...)), ("Ember demand x intensity", ember_power_co2(...))]``.
    ``inventories``: ordered name -> sector-total table (see :func:`inventory_rest_shares`); the first that
    has a country decides its non-power split (e.g. ``{"CEADs 2019": ceads_china, "EDGAR v7.0": edgar7}``).
    ``process``: (year, iso3) process CO2 (GCB cement + flaring + other), Mt CO2 yr-1, given to industry first;
    the inventories then split only the combustion rest (so their tables should hold combustion sectors).
    ``aviation``: (year, iso3) domestic aviation CO2 from counted flights, Mt CO2 yr-1 (its last year carries
    its share forward); it replaces the inventory's domestic aviation inside transport.
    """
    years = [int(y) for y in years]
    countries = list(fallback.index)
    fb = fallback.reindex(columns=list(NATIONAL_SECTORS)).astype(np.float64)
    rest_src = pd.Series("inventory shares of the build (EDGAR v5 2018 / CAIT / global mean)", index=countries)
    rest = _normalise_rest(fb.drop(columns="power"))
    rest = rest.reindex(countries)
    for name, table in reversed(list((inventories or {}).items())):
        sh, yr = inventory_rest_shares(table)
        sh = sh[sh.index.isin(countries)]
        rest.loc[sh.index] = sh.to_numpy()
        rest_src.loc[sh.index] = [f"{name} ({int(yr[c])})" for c in sh.index]
    rest = rest.fillna(1.0 / len(NON_POWER))
    rows, basis = [], []
    lo, hi = POWER_SHARE_BOUNDS
    for y in years:
        power_share = fb["power"].copy()
        p_src = pd.Series("inventory share", index=countries)
        done = pd.Series(False, index=countries)
        for name, table in power:
            if table.empty:
                continue
            t = table.reindex(columns=countries)
            src_years = [e for e in t.index if e <= y]
            if not src_years:
                continue
            # per country, its own last year of this source at or before y
            sub = t.loc[src_years]
            last_year = sub.notna()[::-1].idxmax().where(sub.notna().any())
            for c in countries:
                ey = last_year.get(c)
                if done[c] or ey is None or pd.isna(ey) or int(ey) not in gcb_total.index:
                    continue
                tot = gcb_total.at[int(ey), c] if c in gcb_total.columns else np.nan
                mt = t.at[int(ey), c]
                if not (np.isfinite(tot) and tot > 0 and np.isfinite(mt)):
                    continue
                power_share[c] = float(np.clip(mt / tot, lo, hi))
                p_src[c] = name + ("" if int(ey) == y else f" (share of {int(ey)})")
                done[c] = True
        row = pd.DataFrame(index=countries, columns=list(NATIONAL_SECTORS), dtype=np.float64)
        r_src = rest_src.copy()
        row["power"] = power_share
        proc_share = pd.Series(0.0, index=countries)
        if process is not None and y in process.index and y in gcb_total.index:
            tot = gcb_total.loc[y].reindex(countries)
            with np.errstate(divide="ignore", invalid="ignore"):
                ps = (process.loc[y].reindex(countries) / tot).where(tot > 0)
            proc_share = ps.fillna(0.0).clip(0.0, None)
            proc_share = np.minimum(proc_share, 1.0 - power_share)
        for s in NON_POWER:
            row[s] = (1.0 - power_share - proc_share) * rest[s]
        row["industry"] += proc_share
        if aviation is not None and not aviation.empty and y in gcb_total.index:
            av_years = [a for a in aviation.index if a <= y]
            if av_years:
                ay = max(av_years)
                tot_ay = gcb_total.loc[ay].reindex(countries) if ay in gcb_total.index else None
                if tot_ay is not None:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        av_share = (aviation.loc[ay].reindex(countries) / tot_ay).where(tot_ay > 0)
                    transport = row["ground_transport"] + row["domestic_aviation"]
                    ok = av_share.notna()
                    new_da = np.minimum(av_share[ok], MAX_AVIATION_SHARE_OF_TRANSPORT * transport[ok])
                    row.loc[ok, "domestic_aviation"] = new_da
                    row.loc[ok, "ground_transport"] = transport[ok] - new_da
                    r_src.loc[ok[ok].index] = [f"{v}; domestic aviation from counted flights"
                                               for v in r_src.loc[ok[ok].index]]
        row = row.div(row.sum(axis=1), axis=0)
        row.index = pd.MultiIndex.from_product([[y], countries], names=["year", "iso3"])
        rows.append(row)
        b = pd.DataFrame({"power": p_src.to_numpy(), "rest": r_src.to_numpy()}, index=row.index)
        basis.append(b)
    shares = pd.concat(rows)
    if not np.allclose(shares.sum(axis=1).to_numpy(), 1.0, atol=1e-12):
        raise SplitError("sector shares must sum to 1 per country and year")
    return SectorSplit(shares, pd.concat(basis))


def split_totals(totals: np.ndarray, split: SectorSplit, years: list[int], regions: tuple[str, ...],
                 intl: Mapping[str, str]) -> np.ndarray:
    """Totals (year, region) kg CO2 yr-1 -> (year, sector, region) with per-year shares.

    ``intl``: pseudo-region code -> its sector (XIA -> international_aviation, ...); those carry their whole
    total in that sector. Every (year, region) keeps its total exactly (up to float rounding).
    """
    from carbonmap.contract import SECTORS

    out = np.zeros((len(years), len(SECTORS), len(regions)))
    pos = {r: j for j, r in enumerate(regions)}
    national = [r for r in regions if r not in intl]
    for k, y in enumerate(years):
        sh = split.for_year(y).reindex(index=national, columns=list(NATIONAL_SECTORS))
        if sh.isna().any().any():
            missing = list(sh.index[sh.isna().any(axis=1)])[:10]
            raise SplitError(f"no sector shares for {missing} in {y}")
        cols = [pos[r] for r in national]
        for i, s in enumerate(NATIONAL_SECTORS):
            out[k, SECTORS.index(s), cols] = totals[k, cols] * sh[s].to_numpy()
        for code, sector in intl.items():
            if code in pos:
                out[k, SECTORS.index(sector), pos[code]] = totals[k, pos[code]]
    return out

