"""Read the measured activity data and current sector inventories for a build (thin I/O over the adapters).

:func:`load_measured` returns, per sector, the monthly series and daily reports that
:func:`pipelines.national.apply_measured` turns into indicators (units in :mod:`nowcast.activity_indicators`):

=====================  ======================================================  ==========================
sector                 series (countries)                                      evidence
=====================  ======================================================  ==========================
power                  Grid-India daily reports, coal + gas generation (IND)   daily-activity
power                  Carbon Monitor Power monthly generation by fuel (45)    monthly-statistics
power                  Ember monthly demand x intensity (the rest it covers)   monthly-statistics
power (USA, in month)  EIA-930 daily demand shapes the days of each month      daily-activity
industry               NBS crude steel, cement, crude processed (CHN)          monthly-statistics
industry               CICERO coal CO2 outside power + cement (IND)            monthly-statistics
residential            CICERO gas CO2 outside power (24 European countries)    monthly-statistics
ground_transport       PPAC diesel + petrol sales (IND)                        monthly-statistics
domestic_aviation      EUROCONTROL daily IFR departures (40 European states)   daily-activity
domestic_aviation      PPAC jet fuel sales (IND)                               monthly-statistics
=====================  ======================================================  ==========================

:func:`load_split` builds the per-year sector split (:func:`nowcast.sector_split.sector_split`) from Ember's
yearly overview, CEADs (China) and EDGAR v7.0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ingest.activity import PUBLICATION_LAG_DAYS
from nowcast import activity_indicators as ai
from nowcast.measured import daily_as_monthly, splice
from nowcast.sector_split import (
    CO2_T_PER_DOMESTIC_FLIGHT,
    SectorSplit,
    ember_power_co2,
    generation_power_co2,
    sector_split,
)

Record = Callable[[Any, Path, str], Path]

CM_MONTHLY = "electricity/cm-power/cm_power_monthly_by_country_fuel_vs_iea.csv"
CM_CHINA_DAILY = "electricity/cm-power/cm_power_china_daily_by_fuel_gwh.csv"
EMBER_MONTHLY = "electricity/ember/api_country_overview_monthly.csv"
EMBER_YEARLY = "electricity/ember/api_country_overview_yearly.csv"
POSOCO_DAILY = "electricity/india-daily/POSOCO_data.csv"
CHINA_INDUSTRY = "activity/china-monthly/monthly_industry_stats.csv"
INDIA_OIL = "activity/india-monthly/India_monthly_data.csv"
INDIA_OIL_META = "activity/india-monthly/India_monthly_metadata.json"
CHINA_CRUDE = "activity/china-monthly/apparent_consumption_of_fossils.csv"
EUROCONTROL_DIR = "activity/transport/eurocontrol_daio"
EDGAR_V7 = "statistical/EDGARv7.0_GHG_AR4_AR5.xlsx"
CICERO_EUROPE = "statistical/monthly-co2/cicero_europeancountries_monthly_CO2_data.csv"
CICERO_INDIA = "statistical/monthly-co2/cicero_india_monthly_co2_emissions_data.csv"
RESIDENTIAL_GAS_EXCLUDED = ("IND",)
"""Countries whose gas outside power is not mostly heating (India: fertiliser, industry, city gas), so it does not
drive residential there."""
INDUSTRY_FUEL_COUNTRIES = ("IND",)
"""Countries whose coal outside power plus cement drives industry. In Europe the remainder is small and noisy
(2024 changes of -34 % to +10 %, months missing where it falls below 15 % of coal CO2), so it is not used."""
CEADS = "statistical/ceads-china/China_CO2_Inventory_1997-2019_(IPCC_Sectoral_Emissions).xlsx"


@dataclass(frozen=True)
class Measured:
    """Measured series per sector: (month, iso3) monthly, (day, iso3) daily reports, labels, festival shape."""

    monthly: dict[str, pd.DataFrame] = field(default_factory=dict)
    daily: dict[str, pd.DataFrame] = field(default_factory=dict)
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    spring_festival: pd.Series | None = None
    lags: dict[str, dict[str, int]] = field(default_factory=dict)
    """sector -> iso3 -> days after a month ends until the series publishes it (the adapter's registered lag;
    China's NBS publishes January only with February, which :func:`published_monthly` applies)."""


def find(root: Path, rel: str) -> Path | None:
    """``root/rel`` or its gzipped twin, whichever ships; None if neither does."""
    for cand in (root / rel, root / (rel + ".gz"), root / rel.removesuffix(".gz")):
        if cand.exists():
            return cand
    return None


def published_monthly(m: Measured, sector: str, as_of: pd.Timestamp | str) -> pd.DataFrame:
    """The monthly series of ``sector`` as it stood on ``as_of``: months whose end + lag falls after it are NaN
    (and January of China's NBS series until February is out)."""
    monthly = m.monthly.get(sector, pd.DataFrame(dtype=np.float64))
    if monthly.empty:
        return monthly
    as_of = pd.Timestamp(as_of)
    ends = pd.DatetimeIndex(monthly.index) + pd.offsets.MonthEnd(0)
    out = monthly.copy()
    for c in out.columns:
        lag = pd.Timedelta(days=m.lags.get(sector, {}).get(str(c), 0))
        cut = ends + lag > as_of
        if sector == "industry" and str(c) == "CHN":  # NBS: January comes out with February
            feb_end = ends + pd.offsets.MonthEnd(1)
            cut = cut | ((pd.DatetimeIndex(monthly.index).month == 1) & (feb_end + lag > as_of))
        out.loc[cut, c] = np.nan
    return out


def _fuel_co2(m: Measured, root: Path, record: Record) -> None:
    """Residential from gas burnt outside power (European countries) and industry from coal outside power plus
    cement (India): CICERO's monthly CO2 by fuel minus Carbon Monitor Power's generation x emission factors."""
    cm = find(root, CM_MONTHLY)
    if cm is None or all(find(root, rel) is None for rel in (CICERO_EUROPE, CICERO_INDIA)):
        return
    from ingest import cicero_monthly_co2, cm_power

    gen = cm_power.read_cm_power_monthly(record(cm_power.INFO, cm, "power part of the fuel CO2 (generation by fuel)"))
    infos = {CICERO_EUROPE: cicero_monthly_co2.CiceroEuropeCO2Adapter.info,
             CICERO_INDIA: cicero_monthly_co2.CiceroIndiaCO2Adapter.info}
    co2 = pd.concat([cicero_monthly_co2.read_cicero_monthly_co2(
        record(infos[rel], p, "monthly indicator: CO2 by fuel outside power"))
        for rel in (CICERO_EUROPE, CICERO_INDIA) if (p := find(root, rel)) is not None], ignore_index=True)
    lag = {r: max(PUBLICATION_LAG_DAYS.get(s, 0) for s in (src, "cm_power"))
           for r, src in co2.groupby("iso3")["source"].first().items()}
    gas = ai.nonpower_co2_monthly(co2, gen, "gas")
    gas = gas[[c for c in gas.columns if c not in RESIDENTIAL_GAS_EXCLUDED]]
    _add(m, "residential", gas, "CICERO monthly gas CO2 (Eurostat) minus gas-fired power (CM Power generation x "
         "0.40 t/MWh): gas burnt outside power, mostly heating", lag_days=lag)
    ind = ai.nonpower_co2_monthly(co2, gen, "coal", ("co2_cement",))
    ind = ind[[c for c in ind.columns if c in INDUSTRY_FUEL_COUNTRIES]]
    _add(m, "industry", ind, "CICERO monthly coal CO2 minus coal-fired power (CM Power generation x 1.0 t/MWh), "
         "plus cement process CO2", lag_days=lag)


def _add(m: Measured, sector: str, monthly: pd.DataFrame, label: str, *, overwrite: bool = False,
         daily: pd.DataFrame | None = None, source: str = "", lag_days: dict[str, int] | None = None) -> None:
    if monthly.empty:
        return
    cur = m.monthly.get(sector, pd.DataFrame(dtype=np.float64))
    cols = [c for c in monthly.columns if overwrite or c not in cur.columns]
    if not cols:
        return
    new = monthly[cols]
    merged = new if cur.empty else pd.concat([cur.drop(columns=[c for c in cols if c in cur.columns]), new],
                                             axis=1)
    merged.index = pd.DatetimeIndex(merged.index, name="month")
    m.monthly[sector] = merged.sort_index()
    m.sources.setdefault(sector, {}).update({c: label for c in cols})
    m.lags.setdefault(sector, {}).update({str(c): (lag_days or {}).get(str(c), PUBLICATION_LAG_DAYS.get(source, 0))
                                          for c in cols})
    if daily is not None:
        d_cur = m.daily.get(sector, pd.DataFrame(dtype=np.float64))
        dcols = [c for c in daily.columns if c in cols]
        m.daily[sector] = daily[dcols] if d_cur.empty else pd.concat([d_cur, daily[dcols]], axis=1)


def internal_flights(root: Path, record: Record, role: str) -> pd.DataFrame | None:
    """EUROCONTROL's daily internal (domestic) IFR flights per state, flights day-1, dims (day, iso3); None when the
    files do not ship. The grouped entries BEL_LUX and SRB_MNE (two states each) are left out."""
    d = root / EUROCONTROL_DIR
    if not d.is_dir():
        return None
    from ingest import eurocontrol

    files = sorted(d.glob("daio_*.csv*"))
    for f in files:
        record(eurocontrol.INFO, f, role)
    fl = ai.flights_daily(eurocontrol.read_eurocontrol_daily(files), "flights_internal")
    return fl[[c for c in fl.columns if len(str(c)) == 3 and str(c).isupper()]]


def _rejoin_jan_feb(table: pd.DataFrame, split: pd.DataFrame) -> pd.DataFrame:
    """Undo a split-by-days of January+February totals (``split``: iso3, region, variable, year rows): January
    becomes missing and February holds the sum again, so the caller can split it by a better daily shape."""
    if split.empty:
        return table
    t = table.copy()
    year = t["period"].dt.year
    month = t["period"].dt.month
    for row in split.itertuples(index=False):
        sel = (t["iso3"] == row.iso3) & (t["region"] == row.region) & (t["variable"] == row.variable) & (
            year == row.year)
        jan = sel & (month == 1)
        feb = sel & (month == 2)
        if jan.sum() == 1 and feb.sum() == 1:
            t.loc[feb, "value"] = float(t.loc[jan, "value"].iloc[0] + t.loc[feb, "value"].iloc[0])
            t = t[~jan]
            year, month = t["period"].dt.year, t["period"].dt.month
    return t


def _splice_back(m: Measured, sector: str, earlier: pd.DataFrame, note: str) -> None:
    """Extend each measured series of ``sector`` back in time with ``earlier`` (same country), scaled on their
    overlap (:func:`nowcast.measured.splice`); months the series has are never changed."""
    cur = m.monthly.get(sector)
    if cur is None or earlier.empty:
        return
    cols = {}
    for c in cur.columns:
        if c in earlier.columns and cur[c].dropna().index.min() > earlier[c].dropna().index.min():
            spliced = splice(cur[c], earlier[c])
            if len(spliced.dropna()) > len(cur[c].dropna()):
                cols[c] = spliced
                m.sources[sector][c] = m.sources[sector].get(c, "") + note
    if cols:
        merged = cur.drop(columns=list(cols)).join(pd.DataFrame(cols), how="outer")
        merged.index = pd.DatetimeIndex(merged.index, name="month")
        m.monthly[sector] = merged.sort_index()


def load_measured(root: Path, record: Record, us_demand: pd.DataFrame | None = None) -> Measured:
    """Read every shipped measured series (the files that are absent are skipped)."""
    m = Measured()
    p = find(root, POSOCO_DAILY)
    if p is not None:
        from ingest import india_grid

        rep = ai.power_co2_daily(india_grid.read_posoco_daily(
            record(india_grid.INFO, p, "daily indicator: India power (coal and gas generation)")))
        if not rep.empty:
            _add(m, "power", rep.apply(daily_as_monthly), "Grid-India daily reports: coal + gas generation x "
                 "emission factors", daily=rep, source="posoco")
    p = find(root, CM_MONTHLY)
    if p is not None:
        from ingest import cm_power

        gen = cm_power.read_cm_power_monthly(record(cm_power.INFO, p, "monthly indicator: power generation by fuel"))
        _add(m, "power", ai.power_co2_monthly(gen), "Carbon Monitor Power monthly generation by fuel x emission "
             "factors", source="cm_power")
    p = find(root, EMBER_MONTHLY)
    if p is not None:
        from ingest import ember_api

        ov = ember_api.read_ember_overview(record(ember_api.INFO, p, "monthly indicator: power CO2 (Ember)"))
        ember_m = ai.ember_power_co2_monthly(ov)
        _add(m, "power", ember_m, "Ember monthly demand x CO2 intensity", source="ember_monthly")
        _splice_back(m, "power", ember_m, "; before its first month, Ember's monthly series scaled on 12 months of "
                                          "overlap")
    if us_demand is not None and "USA" in us_demand.columns and "USA" in m.monthly.get("power", {}):
        m.daily.setdefault("power", pd.DataFrame(dtype=np.float64))
        d = m.daily["power"]
        m.daily["power"] = pd.concat([d, us_demand[["USA"]]], axis=1) if not d.empty else us_demand[["USA"]]
        m.sources["power"]["USA"] += "; days inside each month shaped by EIA-930 daily demand"
    p = find(root, CM_CHINA_DAILY)
    festival = None
    if p is not None:
        from ingest import cm_power

        cd = cm_power.read_cm_power_china_daily(record(cm_power.INFO, p, "Lunar New Year climatology (China "
                                                                         "daily thermal generation)"))
        coal = cd[(cd["variable"] == "generation_coal") & (cd["frequency"] == "daily")]
        festival = ai.spring_festival_profile(coal.set_index("period")["value"].sort_index())
        m = Measured(m.monthly, m.daily, m.sources, festival, m.lags)
    p = find(root, CHINA_INDUSTRY)
    if p is not None:
        from ingest import china_monthly

        parts = [china_monthly.read_china_industry_monthly(
            record(china_monthly.NBS_INFO, p, "monthly indicator: China crude steel and cement output"))]
        crude = find(root, CHINA_CRUDE)
        if crude is not None:
            parts.append(china_monthly.read_china_industry_monthly(
                record(china_monthly.NBS_INFO, crude, "monthly indicator: China crude oil processed")))
        out = pd.concat(parts, ignore_index=True)
        out = _rejoin_jan_feb(out, china_monthly.combined_jan_feb(out))
        idx = ai.industry_co2_monthly(out)
        if not idx.empty and "CHN" in idx.columns:
            days = pd.date_range(idx.index.min(), idx.index.max() + pd.offsets.MonthEnd(0))
            shape = pd.Series(ai.spring_festival_daily(days, festival) if festival is not None else 1.0, index=days)
            idx = idx.apply(lambda col: ai.split_combined_jan_feb(col, shape))
            _add(m, "industry", idx[["CHN"]], "NBS crude steel, cement and crude processed x CO2 per tonne "
                 "(January and February published together, split by the Lunar New Year climatology)",
                 source="nbs_china_monthly")
    p = find(root, INDIA_OIL)
    if p is not None:
        from ingest import india_monthly

        meta = find(root, INDIA_OIL_META)
        info = india_monthly.IndiaOilAdapter.info
        if meta is not None:
            record(info, meta, "metadata of the India fuel sales")
        oil = india_monthly.read_india_oil_monthly(record(info, p, "monthly indicator: India fuel sales"), meta)
        road = ai.weighted_index(oil, "monthly", {"diesel": 1.0, "petrol": 1.0}, required=("diesel", "petrol"))
        _add(m, "ground_transport", road, "PPAC diesel + petrol consumption", source="india_ppac_oil")
        jet = ai.weighted_index(oil, "monthly", {"jet_fuel": 1.0}, required=("jet_fuel",))
        _add(m, "domestic_aviation", jet, "PPAC aviation turbine fuel consumption", source="india_ppac_oil")
    _fuel_co2(m, root, record)
    fl = internal_flights(root, record, "daily indicator: internal flights per European state")
    if fl is not None:
        _add(m, "domestic_aviation", fl.apply(daily_as_monthly), "EUROCONTROL daily internal (domestic) IFR flights",
             daily=fl, source="eurocontrol")
    return m


def load_split(root: Path, record: Record, gcb: pd.DataFrame, fallback: pd.DataFrame,
               years: list[int]) -> SectorSplit | None:
    """The per-year sector split from the shipped Ember yearly overview, CEADs and EDGAR v7.0 (None if absent)."""
    ember_p = find(root, EMBER_YEARLY)
    edgar_p = find(root, EDGAR_V7)
    ceads_p = find(root, CEADS)
    cm_p = find(root, CM_MONTHLY)
    if ember_p is None and edgar_p is None and cm_p is None:
        return None
    power: list[tuple[str, pd.DataFrame]] = []
    if cm_p is not None:
        from ingest import cm_power

        gen = cm_power.read_cm_power_monthly(record(cm_power.INFO, cm_p, "sector split: power CO2 = fossil "
                                                                         "generation by fuel x emission factors"))
        power.append(("fossil generation by fuel x emission factors (Carbon Monitor Power)",
                      generation_power_co2(ai.power_co2_monthly(gen))))
    if ember_p is not None:
        from ingest import ember_api

        power.append(("Ember demand x CO2 intensity", ember_power_co2(ember_api.read_ember_overview(
            record(ember_api.INFO, ember_p, "sector split: power CO2 = demand x intensity (Ember yearly)")))))
    inventories: dict[str, pd.DataFrame] = {}
    if ceads_p is not None:
        from ingest import ceads

        cd = ceads.read_ceads_china(record(ceads.INFO, ceads_p, "sector split: China's combustion sectors"))
        t = ceads.ceads_sector_totals(cd[cd["fuel"] != "Process"])  # process CO2 comes from GCB's cement row
        inventories["CEADs"] = t.assign(iso3="CHN") if "iso3" not in t.columns else t
    if edgar_p is not None:
        from ingest import edgar_v7

        e7 = edgar_v7.edgar_v7_sector_totals(edgar_v7.read_edgar_v7(
            record(edgar_v7.INFO, edgar_p, "sector split: combustion sectors (EDGAR v7.0 GHG, 2021)")))
        # the GHG table's "Other sectors" mix process CO2 with CH4/N2O: only the combustion sectors are used
        e7 = e7[e7["sector"] != "other"].rename(columns={"ghg_mt_co2eq": "co2_mt"})
        inventories["EDGAR v7.0"] = e7
    aviation = None
    fl = internal_flights(root, record, "sector split: domestic aviation = internal flights x CO2 per flight")
    if fl is not None:
        idx = pd.DatetimeIndex(fl.index)
        g = fl.groupby(idx.year)
        full = g.count() >= 360
        aviation = (g.sum() * CO2_T_PER_DOMESTIC_FLIGHT / 1e6).where(full).dropna(how="all")
    wide = gcb.pivot_table(index="year", columns="iso3", values="total", aggfunc="first")
    proc = gcb.assign(process=gcb[["cement", "flaring", "other"]].fillna(0.0).sum(axis=1)).pivot_table(
        index="year", columns="iso3", values="process", aggfunc="first")
    return sector_split(wide, years, fallback, power=power, inventories=inventories, process=proc,
                        aviation=aviation)
