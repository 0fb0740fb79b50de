"""GEM Global Coal Plant Tracker (GCPT, July 2024): coal-fired units (>= 30 MW) with place, status and CO2 basis.

Published as an Excel workbook (sheets About, Units, CO2 parameters, ...); carbonmap ships the Units sheet
as ``gem_gcpt_coal_units_2024-07.csv.gz`` and the CO2 parameters sheet as
``gem_gcpt_co2_parameters_2024-07.csv`` (the About sheet as ``gem_gcpt_about_2024-07.txt``).  Both
layouts are read: :func:`read_gem_coal_units` takes the CSV or the workbook.

GEM's CO2 method (About sheet; gem.wiki "Estimating carbon dioxide emissions from coal plants")::

    annual CO2 [kg] = capacity [MW] x 1000 x capacity factor x 8760 h x heat rate [Btu/kWh]
                      x 1.05506e-9 [TJ/Btu] x emission factor [kg CO2/TJ]

- heat rate: by combustion technology (Sargent & Lundy 2009; the parameters sheet) with GEM's
  penalties for older and smaller units already applied in the Units sheet (ratio 1.00-1.45 to the base);
- emission factor: by coal type, 2006 IPCC Guidelines vol. 2 table 2.2 (CCS units: 10 %);
- capacity factor: 0.53 for every unit (IEA WEO 2023 global average).

:func:`read_gem_coal_units` returns :data:`UNIT_COLUMNS`, one row per unit, with
``heat_rate_btu_per_kwh``, ``emission_factor_kg_per_tj`` and ``co2_mt_per_yr_full_load`` (Mt CO2 per
year at capacity factor 1); :func:`annual_co2_mt` multiplies by a capacity factor.  The reader checks
each unit's CO2 against GEM's own ``Annual CO2`` column (a units check of capacity, heat rate and
EF at once) and, given the parameters table, each unit's emission factor and base heat rate.

:func:`operating_in` says which units ran in a year (rules in its docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import IngestError, SourceInfo
from ingest.gem_common import (
    FacilityAdapter,
    check_median,
    check_unique,
    country_iso3,
    number,
    place,
    read_sheet_raw,
    read_table,
    require_columns,
    status_of,
    text,
)

DIR = "point_sources/gem"
UNITS_FILE = "gem_gcpt_coal_units_2024-07.csv.gz"
PARAMETERS_FILE = "gem_gcpt_co2_parameters_2024-07.csv"
ABOUT_FILE = "gem_gcpt_about_2024-07.txt"
TRACKER_YEAR = 2024
"""Year of the tracker's status snapshot (July 2024 release)."""
TJ_PER_BTU = 1.05505585e-9
"""International Table Btu in TJ (GEM's own numbers imply 1.05510e-9: a 4e-5 relative difference)."""
HOURS_PER_YEAR = 8760.0
GEM_CAPACITY_FACTOR = 0.53
STATUSES = ("operating", "construction", "retired", "mothballed", "cancelled", "shelved", "permitted",
            "announced", "pre-permit")
NEVER_BUILT = ("cancelled", "shelved", "permitted", "announced", "pre-permit")
COL = {
    "unit_id": "GEM unit/phase ID", "plant_id": "GEM location ID", "country": "Country/Area",
    "plant_name": "Plant name", "unit_name": "Unit name", "owner": "Owner", "parent": "Parent",
    "capacity_mw": "Capacity (MW)", "status": "Status", "start_year": "Start year", "retired": "Retired year",
    "planned": "Planned retirement", "tech": "Combustion technology", "coal": "Coal type",
    "region": "Subnational unit (province, state)", "lat": "Latitude", "lon": "Longitude",
    "captive": "Captive", "cf": "Capacity factor", "hr": "Heat rate (Btu per kWh)",
    "ef": "Emission factor (kg of CO2 per TJ)", "co2": "Annual CO2 (million tonnes / annum)",
}
UNIT_COLUMNS = ("unit_id", "plant_id", "plant_name", "unit_name", "iso3", "region", "lon", "lat", "capacity_mw",
                "status", "start_year", "retired_year", "retirement_planned", "combustion_technology",
                "coal_type", "captive_industry", "owner", "parent", "heat_rate_btu_per_kwh",
                "emission_factor_kg_per_tj", "co2_mt_per_yr_full_load")
CO2_TOLERANCE = 1e-3
"""Largest relative difference allowed between a unit's recomputed CO2 and GEM's ``Annual CO2``."""

GEM_REPO = "https://raw.githubusercontent.com/GlobalEnergyMonitor/maps/7b94491f"
WORKBOOK_URL = (f"{GEM_REPO}/trackers/coal-plant/compilation_input/"
                "Global-Coal-Plant-Tracker-July-2024%20DATA%20TEAM%20COPY.xlsx")

INFO = SourceInfo(
    name="gem_coal",
    title="Global Energy Monitor, Global Coal Plant Tracker, July 2024",
    kind="point_sources",
    licence="CC-BY-4.0",
    url="https://globalenergymonitor.org/projects/global-coal-plant-tracker/",
    shipped=(f"{DIR}/{UNITS_FILE}", f"{DIR}/{PARAMETERS_FILE}", f"{DIR}/{ABOUT_FILE}"),
    note="14,004 units >= 30 MW; status as of July 2024; CO2 from GEM's heat rates and IPCC emission factors",
)


@dataclass(frozen=True)
class CO2Parameters:
    """GEM's CO2 parameters: EF by coal type (kg CO2/TJ), base heat rate by technology (Btu/kWh), CF."""

    emission_factor_kg_per_tj: dict[str, float] = field(default_factory=dict)
    heat_rate_btu_per_kwh: dict[str, float] = field(default_factory=dict)
    capacity_factor: float = GEM_CAPACITY_FACTOR


def _parameters_from_rows(rows: list[list[str]], what: str) -> CO2Parameters:
    ef: dict[str, float] = {}
    hr: dict[str, float] = {}
    cf: float | None = None
    section = None
    for cells in rows:
        first = cells[0].strip() if cells else ""
        second = cells[1].strip() if len(cells) > 1 else ""
        if first == "Coal" and second.startswith("Emission factor"):
            section = "ef"
        elif first == "Combustion Technology" and second.startswith("Heat rate"):
            section = "hr"
        elif first == "Capacity Factor" or first == "Lifetime":
            section = None
        elif first == "CAPF":
            cf = float(second)
        elif not first:
            section = None
        elif section and second:
            try:
                (ef if section == "ef" else hr)[first.lower()] = float(second)
            except ValueError:
                raise IngestError(f"{what}: {first!r} has the non-numeric value {second!r}") from None
    if not ef or not hr or cf is None:
        raise IngestError(f"{what}: no emission factor, heat rate or capacity factor (CAPF) table found")
    if not all(5_000 <= v <= 120_000 for v in ef.values()):
        raise IngestError(f"{what}: emission factors {ef} are not in kg CO2 per TJ")
    if not all(6_000 <= v <= 16_000 for v in hr.values()):
        raise IngestError(f"{what}: heat rates {hr} are not in Btu per kWh")
    if not 0 < cf <= 1:
        raise IngestError(f"{what}: capacity factor {cf} is not a fraction")
    return CO2Parameters(ef, hr, cf)


def read_co2_parameters(path: Path) -> CO2Parameters:
    """GEM's CO2 parameters from the shipped CSV or the workbook's parameters sheet."""
    import csv
    import io

    path = Path(path)
    what = f"GEM CO2 parameters {path.name}"
    if path.suffix.lower() == ".xlsx":
        raw = read_sheet_raw(path, what=what, first_cell_has="Parameters Used to Calculate CO2")
        rows = [["" if pd.isna(v) else str(v) for v in r] for r in raw.itertuples(index=False)]
    else:
        if not path.is_file():
            raise IngestError(f"{what}: file not found")
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    return _parameters_from_rows(rows, what)


def read_gem_coal_units(path: Path, parameters: CO2Parameters | Path | None = None) -> pd.DataFrame:
    """One row per GCPT unit (:data:`UNIT_COLUMNS`), units without coordinates dropped (warned, counted).

    ``capacity_mw`` MW (gross); ``lat``/``lon`` degrees (EPSG:4326); ``region`` GEM's subnational unit
    (province/state); ``status`` one of :data:`STATUSES`; ``start_year`` / ``retired_year`` Int64, where
    ``retired_year`` is the actual retirement year of a retired unit or else the planned one
    (``retirement_planned`` True); ``heat_rate_btu_per_kwh`` (Btu per kWh, with GEM's age/size
    penalties), ``emission_factor_kg_per_tj`` (kg CO2 per TJ of coal), ``co2_mt_per_yr_full_load``
    (Mt CO2 per year at capacity factor 1).  ``parameters`` (the CO2 parameters table or its path; from
    the workbook itself when ``path`` is one) is used to check each unit's emission factor and heat rate.
    """
    path = Path(path)
    what = f"GEM coal units {path.name}"
    raw = read_table(path, what=what, sheet="Units", header_has=COL["unit_id"])
    require_columns(raw, COL.values(), what=what)
    if parameters is None and path.suffix.lower() == ".xlsx":
        parameters = read_co2_parameters(path)
    elif isinstance(parameters, (str, Path)):
        parameters = read_co2_parameters(Path(parameters))
    check_unique(raw[COL["unit_id"]], what=what, key="unit id")
    cap = number(raw[COL["capacity_mw"]])
    if cap.isna().any() or (cap <= 0).any():
        raise IngestError(f"{what}: unit {raw.loc[cap.isna() | (cap <= 0), COL['unit_id']].iloc[0]} has no "
                          f"positive capacity (MW)")
    check_median(cap, 50, 1500, what=what, unit="MW per unit")
    status = status_of(raw[COL["status"]], STATUSES, what=what)
    retired = number(raw[COL["retired"]]).astype("Int64")
    planned = number(raw[COL["planned"]]).astype("Int64")
    hr, ef, cf = number(raw[COL["hr"]]), number(raw[COL["ef"]]), number(raw[COL["cf"]])
    check_median(hr, 6_000, 16_000, what=what, unit="Btu/kWh")
    check_median(ef, 5_000, 120_000, what=what, unit="kg CO2/TJ")
    tech = text(raw[COL["tech"]]).str.lower()
    coal = text(raw[COL["coal"]]).str.lower()
    if isinstance(parameters, CO2Parameters):
        _check_parameters(raw[COL["unit_id"]], tech, coal, hr, ef, cf, parameters, what)
    full = cap * 1000.0 * HOURS_PER_YEAR * hr * TJ_PER_BTU * ef / 1e9
    gem_co2 = number(raw[COL["co2"]])
    rel = ((full * cf) / gem_co2 - 1.0).abs()
    off = rel > CO2_TOLERANCE
    if off.any():
        i = off[off].index[0]
        raise IngestError(f"{what}: unit {raw.loc[i, COL['unit_id']]}: capacity x CF x 8760 x heat rate x EF = "
                          f"{full[i] * cf[i]:.4g} Mt but GEM's Annual CO2 is {gem_co2[i]:.4g} Mt "
                          f"(units of capacity, heat rate or emission factor changed?)")
    df = pd.DataFrame({
        "unit_id": text(raw[COL["unit_id"]]), "plant_id": text(raw[COL["plant_id"]]),
        "plant_name": text(raw[COL["plant_name"]]), "unit_name": text(raw[COL["unit_name"]]),
        "iso3": country_iso3(raw[COL["country"]], what=what), "region": text(raw[COL["region"]]),
        "lon": number(raw[COL["lon"]]), "lat": number(raw[COL["lat"]]), "capacity_mw": cap,
        "status": status, "start_year": number(raw[COL["start_year"]]).astype("Int64"),
        "retired_year": retired.fillna(planned), "retirement_planned": retired.isna() & planned.notna(),
        "combustion_technology": tech, "coal_type": coal, "captive_industry": text(raw[COL["captive"]]),
        "owner": text(raw[COL["owner"]]), "parent": text(raw[COL["parent"]]),
        "heat_rate_btu_per_kwh": hr, "emission_factor_kg_per_tj": ef, "co2_mt_per_yr_full_load": full,
    })
    out = place(df, what=what, id_col="unit_id")
    out.attrs.update({
        "units": {"capacity_mw": "MW", "heat_rate_btu_per_kwh": "Btu kWh-1", "emission_factor_kg_per_tj":
                  "kg CO2 TJ-1", "co2_mt_per_yr_full_load": "Mt CO2 yr-1 at capacity factor 1",
                  "lat": "degrees_north", "lon": "degrees_east"},
        "tracker_year": TRACKER_YEAR, "gem_capacity_factor": float(cf.median()),
        "rows_in": len(raw),
    })
    return out


def _check_parameters(ids: pd.Series, tech: pd.Series, coal: pd.Series, hr: pd.Series, ef: pd.Series,
                      cf: pd.Series, p: CO2Parameters, what: str) -> None:
    want_ef = coal.map(p.emission_factor_kg_per_tj)
    base_hr = tech.map(p.heat_rate_btu_per_kwh)
    for label, miss in (("coal type", coal[want_ef.isna()]), ("combustion technology", tech[base_hr.isna()])):
        if len(miss):
            raise IngestError(f"{what}: {label} {miss.iloc[0]!r} is not in GEM's CO2 parameters table")
    bad_ef = (ef - want_ef.astype(float)).abs() > 0.5
    if bad_ef.any():
        i = bad_ef[bad_ef].index[0]
        raise IngestError(f"{what}: unit {ids[i]} ({coal[i]}) has emission factor {ef[i]:g} kg/TJ, "
                          f"GEM's parameters say {want_ef[i]:g}")
    ratio = hr / base_hr.astype(float)
    bad_hr = (ratio < 1 - 1e-6) | (ratio > 2.0) | hr.isna()
    if bad_hr.any():
        i = bad_hr[bad_hr].index[0]
        raise IngestError(f"{what}: unit {ids[i]} ({tech[i]}) has heat rate {hr[i]:g} Btu/kWh, not within "
                          f"1-2 x GEM's base {base_hr[i]:g}")
    if ((cf - p.capacity_factor).abs() > 1e-9).any():
        raise IngestError(f"{what}: capacity factors differ from GEM's CAPF {p.capacity_factor}")


def annual_co2_mt(df: pd.DataFrame, capacity_factor: float | pd.Series = GEM_CAPACITY_FACTOR) -> pd.Series:
    """Annual CO2 (Mt CO2 per year) of each unit at ``capacity_factor`` (GEM uses 0.53 everywhere)."""
    return df["co2_mt_per_yr_full_load"] * capacity_factor


def operating_in(df: pd.DataFrame, year: int, *, pipeline: Sequence[str] = ("construction",),
                 tracker_year: int = TRACKER_YEAR) -> pd.DataFrame:
    """The units that operated in ``year`` (a subset of ``df``, :func:`read_gem_coal_units` columns).

    Rules (``tracker_year`` = year of the status snapshot, 2024):

    - ``operating``: started (``start_year`` <= ``year``, or unknown); a *planned* retirement removes the
      unit only after the snapshot: when ``tracker_year`` <= plan <= ``year`` and ``year`` > ``tracker_year``
      (a plan older than the snapshot did not happen: the unit was still running);
    - ``retired``: ``start_year`` <= ``year`` (or unknown) and ``year`` < ``retired_year``; retired units
      without a retirement year are left out (``attrs['retired_without_year']`` counts them);
    - statuses in ``pipeline`` (default ``construction``): only for years after the snapshot, from their
      expected ``start_year`` on (a unit still under construction in the snapshot did not run before);
    - ``mothballed`` (no date of mothballing is published) and the never-built statuses ``cancelled``,
      ``shelved``, ``permitted``, ``pre-permit``, ``announced`` (unless listed in ``pipeline``): never.
    """
    start, ret, st = df["start_year"], df["retired_year"], df["status"]
    started = (start.isna() | (start <= year)).fillna(False).astype(bool)
    plan_hits = (df["retirement_planned"] & (ret >= tracker_year) & (ret <= year)).fillna(False).astype(bool)
    plan_hits &= year > tracker_year
    op = (st == "operating") & started & ~plan_hits
    retired_ok = ((st == "retired") & started & (ret > year)).fillna(False).astype(bool)
    piped = (st.isin(list(pipeline)) & (year > tracker_year) & (start <= year)).fillna(False).astype(bool)
    piped &= ~plan_hits
    out = df[op | retired_ok | piped]
    out.attrs = {**df.attrs, "year": year,
                 "retired_without_year": int(((st == "retired") & ret.isna()).sum())}
    return out


class GEMCoalAdapter(FacilityAdapter):
    """GCPT units.  ``read`` takes the workbook, or the units CSV plus the CO2 parameters CSV (any order;
    the About text file may be passed too and is ignored)."""

    info = INFO
    urls = (WORKBOOK_URL,)

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        paths = [Path(p) for p in paths]
        books = [p for p in paths if p.suffix.lower() == ".xlsx"]
        if books:
            return read_gem_coal_units(books[0])
        params = [p for p in paths if "param" in p.name.lower()]
        units = [p for p in paths if p not in params and "about" not in p.name.lower()]
        if len(units) != 1:
            raise IngestError(f"GEM coal: give the GCPT workbook, or one units CSV (+ the CO2 parameters CSV); "
                              f"got {[p.name for p in paths]}")
        return read_gem_coal_units(units[0], params[0] if params else None)

    def validate(self, data: pd.DataFrame) -> None:
        require_columns(data, UNIT_COLUMNS, what="GEM coal unit table")
        check_unique(data["unit_id"], what="GEM coal unit table", key="unit id")
        if not (data["lat"].between(-90, 90) & data["lon"].between(-180, 180)).all():
            raise IngestError("GEM coal unit table: coordinates off the globe")
        if not np.isfinite(data["co2_mt_per_yr_full_load"]).all():
            raise IngestError("GEM coal unit table: non-finite CO2 at full load")
