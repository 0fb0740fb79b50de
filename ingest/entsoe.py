"""ENTSO-E actual generation per production type (16.1.B&C) -> daily fossil generation and CO2 per country.

Layouts read:

- **Transparency Platform CSV export** ("Actual Generation per Production Type_<start>-<end>.csv", the
  GUI's *Export Data -> CSV*): columns ``Area``, ``MTU`` and, per production type,
  ``<type>  - Actual Aggregated [MW]`` and ``<type>  - Actual Consumption [MW]`` (two spaces before the
  dash in the real files; whitespace is normalised).  ``MTU`` is
  ``"01.01.2023 00:00 - 01.01.2023 00:15 (CET/CEST)"`` (or ``(UTC)``); 15, 30 or 60 minute
  intervals; missing values are ``n/e``, ``N/A``, ``-`` or empty.  ``Area`` is e.g. ``CTY|DE`` or
  ``BZN|DE-LU``.  Local CET/CEST times are converted to UTC (the repeated autumn hour is resolved by
  order).  :func:`read_agpt_export`.
- **File Management System export** (``YYYY_MM_AggregatedGenerationPerType_16.1.B_C_r3.csv``, tab
  separated, UTC): ``DateTime(UTC)``, ``ResolutionCode`` (``PT15M``/``PT30M``/``PT60M``), ``AreaCode``,
  ``AreaDisplayName``, ``AreaTypeCode``, ``AreaMapCode``, ``ProductionType``,
  ``ActualGenerationOutput[MW]``, ``ActualConsumption[MW]``, ``UpdateTime(UTC)``; rows whose
  ``AreaTypeCode`` includes ``CTY`` (country) are kept.  :func:`read_agpt_fms`.
- **CREA daily layout** (energyandcleanair/creaco2tracker): ``date, source, iso2, region, country,
  value_mw, value_mwh, frequency`` with ``value_mwh = 24 x value_mw`` (daily mean MW); sources
  ``Coal``, ``Fossil Gas``, ``Hydro``, ``Nuclear``, ``Other``, ``Solar``, ``Storage``, ``Wind`` and
  ``Total``.  :func:`read_crea_daily`.

All three become the long daily table ``iso2, day, production_type, mwh, hours`` (MWh generated in
the UTC day, and the hours of that day with data).  :func:`daily_fossil` sums the fossil types and
applies :data:`EMISSION_FACTORS_KG_PER_MWH`.

Emission factors (kg CO2 per MWh of net electricity, direct combustion only):
IPCC 2006 default CO2 factors of the fuel (Vol. 2, Table 2.2, kg CO2 per GJ of fuel) divided by a
typical net generating efficiency of the fleet burning it (:data:`FUEL_FACTORS`):
lignite 101 / 0.35, hard coal 94.6 / 0.38, natural gas 56.1 / 0.50, oil 77.4 / 0.38,
oil shale 107 / 0.32, peat 106 / 0.35; coal-derived gas is given hard coal's factor (its mix of
coke-oven and blast-furnace gas is not reported).  CREA's aggregated ``Coal`` uses the mean of the
lignite and hard-coal factors.  Biomass, waste and ``Other`` are not counted as fossil.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo

CREA_FIXTURE = "electricity/crea_fixture_entsoe_power_generation_de_2023-01-01_2023-01-02.csv"
MJ_PER_MWH = 3600.0

FUEL_FACTORS: dict[str, tuple[float, float]] = {
    "Fossil Brown coal/Lignite": (101.0, 0.35),
    "Fossil Hard coal": (94.6, 0.38),
    "Fossil Coal-derived gas": (94.6, 0.38),
    "Fossil Gas": (56.1, 0.50),
    "Fossil Oil": (77.4, 0.38),
    "Fossil Oil shale": (107.0, 0.32),
    "Fossil Peat": (106.0, 0.35),
}
"""Production type -> (IPCC 2006 kg CO2 per GJ of fuel, typical net efficiency)."""

EMISSION_FACTORS_KG_PER_MWH: dict[str, float] = {
    k: round(ef * MJ_PER_MWH / 1000.0 / eff, 1) for k, (ef, eff) in FUEL_FACTORS.items()
}
EMISSION_FACTORS_KG_PER_MWH["Coal"] = round(
    (EMISSION_FACTORS_KG_PER_MWH["Fossil Brown coal/Lignite"] + EMISSION_FACTORS_KG_PER_MWH["Fossil Hard coal"]) / 2, 1)
"""kg CO2 per MWh generated, by production type (see the module docstring); ``Coal`` is CREA's aggregate."""
FOSSIL_TYPES = tuple(EMISSION_FACTORS_KG_PER_MWH)

PRODUCTION_TYPES = (
    "Biomass", "Fossil Brown coal/Lignite", "Fossil Coal-derived gas", "Fossil Gas", "Fossil Hard coal",
    "Fossil Oil", "Fossil Oil shale", "Fossil Peat", "Geothermal", "Hydro Pumped Storage",
    "Hydro Run-of-river and poundage", "Hydro Water Reservoir", "Marine", "Nuclear", "Other",
    "Other renewable", "Solar", "Waste", "Wind Offshore", "Wind Onshore", "Energy storage",
)
"""The production types (B01..B25) of the Transparency Platform."""
CREA_SOURCES = ("Coal", "Fossil Gas", "Hydro", "Nuclear", "Other", "Solar", "Storage", "Wind", "Total")
MAX_COUNTRY_MW = 200_000.0
"""No European country generates more than this from one production type (DE peaks near 90 GW in total)."""

API_URL = ("https://web-api.tp.entsoe.eu/api?securityToken={token}&documentType=A75&processType=A16"
           "&in_Domain={eic}&periodStart={start:%Y%m%d%H%M}&periodEnd={end:%Y%m%d%H%M}")

INFO = SourceInfo(
    name="entsoe",
    title="ENTSO-E Transparency Platform: actual generation per production type (16.1.B&C)",
    kind="activity",
    licence="ENTSO-E Transparency Platform terms (free re-use with attribution); CREA layout GPL-3",
    url="https://transparency.entsoe.eu/generation/r2/actualGenerationPerProductionType/show",
    shipped=(CREA_FIXTURE,),
    note="ships only CREA's 2-day DE format example; TP exports need a free account",
)

_NA = ["n/e", "N/A", "-", "", "n/a"]
_AGG_RE = re.compile(r"^(.*\S)\s*-\s*Actual Aggregated \[MW\]$")
_MTU_RE = re.compile(r"^(\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}) - (\d{2}\.\d{2}\.\d{4} \d{2}:\d{2})(?: \((.+)\))?$")


def _read(path: Path, what: str, **kw) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{what} file not found: {path}")
    try:
        return pd.read_csv(path, **kw)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e


def _iso2_of_area(area: str, name: str) -> str:
    code = area.split("|", 1)[-1].strip()
    m = re.match(r"^([A-Z]{2})\b", code)
    if not m:
        raise IngestError(f"{name}: cannot tell the country of Area {area!r} (expected e.g. 'CTY|DE' or 'BZN|DE-LU')")
    return m.group(1)


def _check_mw(values: np.ndarray, name: str) -> None:
    v = values[np.isfinite(values)]
    if v.size and (v.min() < -MAX_COUNTRY_MW or v.max() > MAX_COUNTRY_MW):
        raise IngestError(f"{name}: generation must be in MW (|value| <= {MAX_COUNTRY_MW:.0f}), found "
                          f"{v.min():g}..{v.max():g}; is it in kW or MWh of a longer period?")


def _to_daily(iso2: pd.Series | str, start_utc: pd.Series, hours: np.ndarray, ptype: pd.Series,
              mw: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame({"iso2": iso2, "day": pd.DatetimeIndex(start_utc).tz_localize(None).normalize(),
                       "production_type": ptype.to_numpy(), "mwh": mw * hours, "hours": hours})
    df = df[np.isfinite(df["mwh"].to_numpy())]
    out = df.groupby(["iso2", "day", "production_type"], sort=True)[["mwh", "hours"]].sum().reset_index()
    out.attrs["units"] = "mwh: MWh per UTC day; hours: hours of the day with data"
    return out


def read_agpt_export(path: Path) -> pd.DataFrame:
    """The Transparency Platform GUI CSV export -> daily ``iso2, day, production_type, mwh, hours`` (UTC days)."""
    path = Path(path)
    raw = _read(path, "ENTSO-E export", na_values=_NA, keep_default_na=True, dtype={"MTU": str, "Area": str})
    raw.columns = [" ".join(str(c).split()) for c in raw.columns]
    for col in ("Area", "MTU"):
        if col not in raw.columns:
            raise IngestError(f"{path.name} lacks the {col!r} column of the ENTSO-E 'Actual Generation per "
                              f"Production Type' export; found {list(raw.columns)[:5]}...")
    agg = {c: m.group(1) for c in raw.columns if (m := _AGG_RE.match(c))}
    if not agg:
        raise IngestError(f"{path.name} has no '<type> - Actual Aggregated [MW]' columns")
    unknown = sorted(set(agg.values()) - set(PRODUCTION_TYPES))
    if unknown:
        raise IngestError(f"{path.name}: unknown production type(s) {unknown}")
    parts = raw["MTU"].astype(str).str.strip().str.extract(_MTU_RE)
    if parts[0].isna().any():
        bad = raw["MTU"][parts[0].isna()].iloc[0]
        raise IngestError(f"{path.name}: MTU {bad!r} is not 'dd.mm.yyyy HH:MM - dd.mm.yyyy HH:MM (zone)'")
    zone = set(parts[2].dropna().unique())
    t0 = pd.to_datetime(parts[0], format="%d.%m.%Y %H:%M")
    t1 = pd.to_datetime(parts[1], format="%d.%m.%Y %H:%M")
    hours = ((t1 - t0).dt.total_seconds() / 3600.0).to_numpy()
    vals = raw[list(agg)].apply(pd.to_numeric, errors="coerce")
    if zone <= {"UTC"}:
        start = t0.dt.tz_localize("UTC")
    elif zone <= {"CET/CEST", "CET", "CEST"}:
        # the repeated autumn hour: its end minus start is negative or 0 in local time; 'infer' uses row order
        start = t0.dt.tz_localize("Europe/Brussels", ambiguous="infer", nonexistent="NaT").dt.tz_convert("UTC")
        gap = start.isna().to_numpy()
        if (vals[gap].notna().to_numpy()).any():
            raise IngestError(f"{path.name}: values given for the non-existent spring DST hour")
        # in local time the autumn DST intervals read e.g. 02:45 - 02:00; the real length is the step
        step = np.median(hours[hours > 0]) if (hours > 0).any() else 1.0
        hours = np.where(hours > 0, hours, step)
        keep = ~gap
        raw, vals, start, hours = raw[keep], vals[keep], start[keep], hours[keep]
    else:
        raise IngestError(f"{path.name}: unknown MTU time zone {sorted(zone)}; expected CET/CEST or UTC")
    if not np.isin(np.round(hours, 6), (0.25, 0.5, 1.0)).all():
        raise IngestError(f"{path.name}: MTU intervals must be 15, 30 or 60 minutes, found {sorted(set(hours))}")
    areas = raw["Area"].astype(str).unique()
    if len(areas) != 1:
        raise IngestError(f"{path.name}: one Area per export expected, found {list(areas)}")
    iso2 = _iso2_of_area(areas[0], path.name)
    if pd.Index(start).has_duplicates:
        raise IngestError(f"{path.name}: duplicate MTU {start[pd.Index(start).duplicated()].iloc[0]}")
    _check_mw(vals.to_numpy(np.float64), path.name)
    n = len(vals)
    long_type = pd.Series(np.repeat([agg[c] for c in vals.columns], n))
    out = _to_daily(iso2, pd.Series(np.tile(start.to_numpy(), len(agg))), np.tile(hours, len(agg)), long_type,
                    vals.to_numpy(np.float64).T.ravel())
    out.attrs["source_file"] = path.name
    return out


FMS_COLUMNS = ("DateTime(UTC)", "ResolutionCode", "AreaTypeCode", "AreaMapCode", "ProductionType",
               "ActualGenerationOutput[MW]")
_RES_HOURS = {"PT15M": 0.25, "PT30M": 0.5, "PT60M": 1.0}


def read_agpt_fms(path: Path) -> pd.DataFrame:
    """The File Management System monthly export (tab separated, UTC) -> daily table (country rows only)."""
    path = Path(path)
    raw = _read(path, "ENTSO-E FMS export", sep="\t", na_values=_NA, keep_default_na=True)
    missing = [c for c in FMS_COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(f"{path.name} lacks the column(s) {missing} of AggregatedGenerationPerType_16.1.B_C")
    raw = raw[raw["AreaTypeCode"].astype(str).str.contains("CTY")]
    if raw.empty:
        raise IngestError(f"{path.name} has no country (AreaTypeCode CTY) rows")
    t = pd.to_datetime(raw["DateTime(UTC)"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    if t.isna().any():
        raise IngestError(f"{path.name}: DateTime(UTC) {raw['DateTime(UTC)'][t.isna()].iloc[0]!r} is not "
                          f"YYYY-MM-DD HH:MM:SS")
    hours = raw["ResolutionCode"].map(_RES_HOURS)
    if hours.isna().any():
        raise IngestError(f"{path.name}: unknown ResolutionCode {raw['ResolutionCode'][hours.isna()].iloc[0]!r}")
    unknown = sorted(set(raw["ProductionType"]) - set(PRODUCTION_TYPES))
    if unknown:
        raise IngestError(f"{path.name}: unknown production type(s) {unknown}")
    iso2 = raw["AreaMapCode"].astype(str).str[:2]
    key = pd.DataFrame({"iso2": iso2, "t": t, "p": raw["ProductionType"]})
    if key.duplicated().any():
        r = key[key.duplicated()].iloc[0]
        raise IngestError(f"{path.name}: duplicate row for {r['iso2']} {r['p']} at {r['t']}")
    mw = pd.to_numeric(raw["ActualGenerationOutput[MW]"], errors="coerce").to_numpy(np.float64)
    _check_mw(mw, path.name)
    out = _to_daily(iso2.to_numpy(), t.dt.tz_localize("UTC"), hours.to_numpy(np.float64), raw["ProductionType"], mw)
    out.attrs["source_file"] = path.name
    return out


CREA_COLUMNS = ("date", "source", "iso2", "value_mw", "value_mwh")


def read_crea_daily(path: Path) -> pd.DataFrame:
    """CREA's daily ENTSO-E layout -> daily table (``hours`` = 24; the ``Total`` rows are dropped after a check)."""
    path = Path(path)
    raw = _read(path, "CREA ENTSO-E")
    missing = [c for c in CREA_COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(f"{path.name} lacks the column(s) {missing}; found {list(raw.columns)}")
    day = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    if day.isna().any():
        raise IngestError(f"{path.name}: date {raw['date'][day.isna()].iloc[0]!r} is not YYYY-MM-DD")
    unknown = sorted(set(raw["source"]) - set(CREA_SOURCES))
    if unknown:
        raise IngestError(f"{path.name}: unknown source(s) {unknown}; known: {list(CREA_SOURCES)}")
    mw = pd.to_numeric(raw["value_mw"], errors="coerce")
    mwh = pd.to_numeric(raw["value_mwh"], errors="coerce")
    if mw.isna().any() or mwh.isna().any():
        raise IngestError(f"{path.name}: value_mw/value_mwh must be numeric")
    _check_mw(mw.to_numpy(np.float64), path.name)
    ratio = (mwh / mw.where(mw != 0)).dropna()
    if not np.allclose(ratio, 24.0, rtol=1e-3):
        raise IngestError(f"{path.name}: value_mwh must be 24 x value_mw (daily rows); found ratios "
                          f"{ratio.min():.3g}..{ratio.max():.3g} — wrong units or not daily data")
    df = pd.DataFrame({"iso2": raw["iso2"].astype(str), "day": day, "production_type": raw["source"],
                       "mwh": mwh.astype(np.float64), "hours": 24.0})
    if df.duplicated(["iso2", "day", "production_type"]).any():
        r = df[df.duplicated(["iso2", "day", "production_type"])].iloc[0]
        raise IngestError(f"{path.name}: duplicate date {r['day'].date()} for {r['iso2']} {r['production_type']}")
    parts = df[df["production_type"] != "Total"].groupby(["iso2", "day"])["mwh"].sum()
    total = df[df["production_type"] == "Total"].set_index(["iso2", "day"])["mwh"]
    both = parts.index.intersection(total.index)
    if len(both) and not np.allclose(parts[both], total[both], rtol=0.02):
        raise IngestError(f"{path.name}: the sources do not add up to Total (within 2 %)")
    out = df[df["production_type"] != "Total"].sort_values(["iso2", "day", "production_type"]).reset_index(drop=True)
    out.attrs.update({"units": "mwh: MWh per day", "source_file": path.name})
    return out


def read_entsoe(path: Path) -> pd.DataFrame:
    """Any of the four layouts (three CSVs, the API's A75 XML), told apart by their header line."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"ENTSO-E file not found: {path}")
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        head = f.readline()
    if "DateTime(UTC)" in head and "\t" in head:
        return read_agpt_fms(path)
    if '"MTU"' in head or ",MTU," in head or head.startswith("Area,MTU") or "Actual Aggregated" in head:
        return read_agpt_export(path)
    if "value_mwh" in head:
        return read_crea_daily(path)
    if head.lstrip().startswith("<"):
        from ingest.entsoe_api import read_agpt_xml

        return read_agpt_xml(path)
    raise IngestError(f"{path.name}: not an ENTSO-E generation layout (TP CSV export, FMS export or CREA daily); "
                      f"header {head.strip()[:120]!r}")


def daily_fossil(daily: pd.DataFrame, factors: dict[str, float] | None = None) -> pd.DataFrame:
    """Daily fossil generation and CO2 per country: ``iso2, day, fossil_mwh, co2_kg, hours``.

    ``hours`` is the smallest coverage (hours with data) among the fossil types of that day (24 = complete).
    Negative fossil values (station consumption) are clipped at 0.
    """
    f = dict(EMISSION_FACTORS_KG_PER_MWH if factors is None else factors)
    g = daily[daily["production_type"].isin(list(f))].copy()
    if g.empty:
        raise IngestError("no fossil production types in the ENTSO-E data")
    g["mwh"] = g["mwh"].clip(lower=0)
    g["co2_kg"] = g["mwh"] * g["production_type"].map(f).to_numpy(np.float64)
    out = g.groupby(["iso2", "day"], sort=True).agg(fossil_mwh=("mwh", "sum"), co2_kg=("co2_kg", "sum"),
                                                    hours=("hours", "min")).reset_index()
    out.attrs.update({"units": "MWh day-1, kg CO2 day-1", "emission_factors_kg_per_mwh": f})
    return out


class ENTSOEAdapter(BaseAdapter[pd.DataFrame]):
    """ENTSO-E generation files (any layout) -> ``iso2, day, fossil_mwh, co2_kg, hours`` (Parquet)."""

    info = INFO

    def download(self, start: date, end: date) -> list[Path]:
        """A75 XML per country (:data:`ingest.entsoe_api.AREAS`) and month via the RESTful API; needs the
        ``entsoe_token`` setting (a free Transparency Platform account's security token)."""
        from ingest.entsoe_api import download_entsoe

        return download_entsoe(start, end, settings=self.settings)

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if not paths:
            raise IngestError("no ENTSO-E files given")
        daily = pd.concat([read_entsoe(p) for p in paths], ignore_index=True)
        dup = daily.duplicated(["iso2", "day", "production_type"])
        if dup.any():
            r = daily[dup].iloc[0]
            raise IngestError(f"ENTSO-E: the files overlap: {r['iso2']} {r['production_type']} on {r['day'].date()} "
                              f"appears twice")
        return daily_fossil(daily)

    def validate(self, data: pd.DataFrame) -> None:
        need = {"iso2", "day", "fossil_mwh", "co2_kg", "hours"}
        if not need <= set(data.columns):
            raise IngestError(f"ENTSO-E table lacks {sorted(need - set(data.columns))}")
        if data.duplicated(["iso2", "day"]).any():
            raise IngestError("ENTSO-E table has duplicate (iso2, day) rows")
