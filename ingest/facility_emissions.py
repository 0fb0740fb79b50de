"""Reported facility CO2 (point sources) in one common table; EU, Israeli and Canadian registers.

Every reader returns :data:`COLUMNS`, one row per facility and year:

- ``facility_id``: ``<register>:<the register's id>`` (``EU-EPRTR:1410332``, ``EU-ETS:AT-200103``, ...);
- ``name``, ``iso3`` (ISO 3166-1 alpha-3), ``region`` (ISO 3166-2 where the register says, else None);
- ``lon``, ``lat``: degrees (EPSG:4326); ``located``: True where the coordinates place the facility
  (False: none, or city centroids as in Canada's file, or coordinates outside the stated country);
- ``year``; ``co2_t``: tonnes per year of fossil CO2 (``co2_basis == "co2"``) or, where the register
  only gives CO2-equivalents, of CO2e (``co2_basis == "co2e"``: EU ETS verified emissions, which include
  N2O and PFCs of a few activities; Canada's GHGRP totals);
- ``sector`` (``power``, ``industry``, ``other``) and ``subsector`` (``electricity``, ``steel``,
  ``cement``, ``refineries``, ``chemicals``, ``paper``, ``glass``, ``lime``, ``non_ferrous``,
  ``minerals_other``, ``food``, ``oil_gas``, ``mining``, ``coke``, ``waste``, ...), mapped from the
  register's activity codes; ``source``: the register.

Readers here: :func:`read_eprtr` (E-PRTR, climate-trace-tools' harmonised copy), :func:`read_hotmaps`,
:func:`read_israel_prtr`, :func:`read_canada_ghgrp` (``located`` False throughout), and, in
:mod:`ingest.eutl`, the EU ETS installations; the US GHGRP is :mod:`ingest.ghgrp`.
:func:`read_facility_file` picks the reader from the file's columns.

Publication lag: EU ETS verified emissions of year Y appear in April-May of Y+1, E-PRTR/Industrial
Reporting about 15 months after the year; the conservative 480 days is registered for this source.
Missing values are dropped, never set to zero.  Tables are per year: summing a facility over years
counts each year once, and registers overlap (an EU plant is in E-PRTR, the ETS and Hotmaps).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import register_lag
from ingest.base import BaseAdapter, Data, IngestError, SourceInfo

COLUMNS = ("facility_id", "name", "iso3", "region", "lon", "lat", "located", "year", "co2_t", "co2_basis",
           "sector", "subsector", "source")
SECTORS = ("power", "industry", "other")
BASES = ("co2", "co2e")
MAX_FACILITY_T = 60.0e6
"""No facility emits more than this per year (the largest, e.g. Belchatow, ~38 Mt): a units check (kg?)."""
DIR = "point_sources/facility-emissions"
EPRTR_FILE = f"{DIR}/eu_eprtr_facility_co2_2007-2021.csv.gz"
HOTMAPS_FILE = f"{DIR}/eu_hotmaps_industrial_sites_2014.csv.gz"
ISRAEL_FILE = f"{DIR}/israel_prtr_facility_co2_2012-2022.csv.gz"
CANADA_FILE = f"{DIR}/canada_ghgrp_site_co2e_2004-2020_openclimate.csv.gz"
EUTL_FILE = f"{DIR}/eu_eutl_installations_verified_emissions_2005-2022.csv.gz"

CTT = "https://raw.githubusercontent.com/climatetracecoalition/climate-trace-tools/{commit}/climate_trace_tools/data/source/"
EPRTR_URL = CTT.format(commit="c7c68236cf46cd3a014d16887fadeecbb9686e53") + "eprtr.zip"
ISRAEL_URL = CTT.format(commit="ecee21c58e5fa991f0097916ec7227c1a5866911") + "isreal-prtr.zip"
EUTL_URL = ("https://raw.githubusercontent.com/cedricr/eutl/5522fbedd149fa58e63f93f1107805d81295d376/export/"
            "installations-{cc}.csv")
HOTMAPS_URL = ("https://gitlab.com/hotmaps/industrial_sites/industrial_sites_Industrial_Database/-/raw/master/"
               "data/Industrial_Database.csv")

INFO = SourceInfo(
    name="facility_emissions",
    title="Reported facility CO2: E-PRTR, EU ETS (EUTL), Hotmaps industrial sites, Israel PRTR, Canada GHGRP",
    kind="point_sources",
    licence="CC BY 4.0 (EEA E-PRTR, EUTL, Hotmaps; Israel PRTR via Climate TRACE); Canada GHGRP OGL-Canada",
    url="https://industry.eea.europa.eu/",
    shipped=(EPRTR_FILE, HOTMAPS_FILE, ISRAEL_FILE, CANADA_FILE, EUTL_FILE),
    note="carrier copies (climate-trace-tools, cedricr/eutl, OpenClimate); Canada located=False; EUTL ~19% placed",
)
LAG_DAYS = register_lag(INFO.name, 480)

EPRTR_ACTIVITIES: dict[str, tuple[str, str]] = {
    "Thermal power stations": ("power", "electricity"),  # E-PRTR 1.(c) thermal power stations and other combustion
    "Mineral oil and gas refineries": ("industry", "refineries"),
    "Coke ovens": ("industry", "coke"),
    "Coal product and solid smokeless fuel manufacturing": ("industry", "coke"),
    "Underground mining": ("industry", "mining"),
    "Opencast mining and quarrying": ("industry", "mining"),
    "Pig iron or steel production": ("industry", "steel"),
    "Non-ferrous crude metal production": ("industry", "non_ferrous"),
    "Non-ferrous metal smelting and alloying": ("industry", "non_ferrous"),
    "Cement clinker production in rotary kilns": ("industry", "cement"),
    "Lime production in rotary kilns": ("industry", "lime"),
    "Glass manufacturing": ("industry", "glass"),
    "Chemical industry": ("industry", "chemicals"),
    "Paper and wood production and processing": ("industry", "paper"),
    "Animal and vegetable products from the food and beverage sector": ("industry", "food"),
    "Incineration of non-hazardous waste": ("other", "waste"),
    "Landfills": ("other", "waste"),
    "Urban waste-water treatment plants": ("other", "waste"),
}
"""E-PRTR main activity (the harmonised copy's ``original_inventory_sector``) -> (sector, subsector)."""

HOTMAPS_SUBSECTORS: dict[str, str] = {
    "Iron and steel": "steel", "Cement": "cement", "Refineries": "refineries", "Chemical industry": "chemicals",
    "Glass": "glass", "Paper and printing": "paper", "Non-ferrous metals": "non_ferrous",
    "Non-metallic mineral products": "minerals_other", "Other non-classified": "other_manufacturing",
}
"""Hotmaps ``Subsector`` -> subsector (all are industry)."""

COUNTRY_NAMES: dict[str, str] = {
    "Austria": "AUT", "Belgium": "BEL", "Bulgaria": "BGR", "Croatia": "HRV", "Cyprus": "CYP",
    "Czech Republic": "CZE", "Denmark": "DNK", "Estonia": "EST", "Finland": "FIN", "France": "FRA",
    "Germany": "DEU", "Greece": "GRC", "Hungary": "HUN", "Iceland": "ISL", "Ireland": "IRL", "Italy": "ITA",
    "Latvia": "LVA", "Liechtenstein": "LIE", "Lithuania": "LTU", "Luxembourg": "LUX", "Malta": "MLT",
    "Netherland": "NLD", "Netherlands": "NLD", "Norway": "NOR", "Poland": "POL", "Portugal": "PRT",
    "Romania": "ROU", "Slovakia": "SVK", "Slovenia": "SVN", "Spain": "ESP", "Sweden": "SWE",
    "Switzerland": "CHE", "United Kingdom": "GBR",
}
"""Country names used by Hotmaps (incl. its 'Netherland') -> ISO3."""


def read_table(path: Path, what: str, **kw: object) -> pd.DataFrame:
    """A (gzip/zip-compressed) CSV as strings-as-published; IngestError when unreadable or empty."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{what} file not found: {path}")
    try:
        df = pd.read_csv(path, low_memory=False, **kw)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, EOFError, OSError, ValueError) as e:
        raise IngestError(f"{path.name} is not a readable {what} CSV: {e}") from e
    if df.empty:
        raise IngestError(f"{path.name}: no rows")
    return df


def sniff_sep(path: Path) -> str:
    """``;`` when the first line of a plain or gzipped CSV has more semicolons than commas, else ``,``."""
    import gzip

    path = Path(path)
    try:
        with (gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")) as f:
            first = f.readline(100_000)
    except (OSError, EOFError):
        return ","
    return ";" if first.count(b";") > first.count(b",") else ","


def need(df: pd.DataFrame, cols: Sequence[str], name: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise IngestError(f"{name} lacks the column(s) {missing}; found {list(df.columns)[:20]}")


def number(s: pd.Series, col: str, name: str) -> pd.Series:
    """Numbers as published; blanks stay NaN, any other text is an error."""
    v = pd.to_numeric(s, errors="coerce")
    bad = v.isna() & s.notna() & (s.astype(str).str.strip() != "")
    if bad.any():
        raise IngestError(f"{name}: non-numeric {col} {s[bad].iloc[0]!r} (row {bad.idxmax()})")
    return v.astype(float)


def map_codes(values: pd.Series, table: Mapping[str, tuple[str, str]], what: str, name: str) -> pd.DataFrame:
    """(sector, subsector) of each value from ``table``; IngestError naming unknown codes."""
    unknown = sorted(set(values.dropna()) - set(table))
    if unknown:
        raise IngestError(f"{name}: unknown {what} {unknown[:5]}; add them to the mapping in ingest/")
    pairs = values.map(table)
    return pd.DataFrame({"sector": pairs.str[0], "subsector": pairs.str[1]}, index=values.index)


def finish_facilities(df: pd.DataFrame, name: str, source: str) -> pd.DataFrame:
    """Validate and sort a facility table: columns, sectors, bases, coordinates, units, duplicates.

    Rows without a CO2 value are dropped (counted in ``attrs['dropped_missing_co2']``).
    """
    df = df.copy()
    df["source"] = source
    if "region" not in df.columns:
        df["region"] = None
    need(df, COLUMNS, name)
    n0 = len(df)
    df = df[df["co2_t"].notna()]
    if df.empty:
        raise IngestError(f"{name}: no facility has a CO2 value")
    if not np.isfinite(df["co2_t"]).all() or (df["co2_t"] < 0).any():
        raise IngestError(f"{name}: CO2 must be finite and >= 0; found {df['co2_t'].min()}")
    if (df["co2_t"] > MAX_FACILITY_T).any():
        r = df.loc[df["co2_t"].idxmax()]
        raise IngestError(f"{name}: {r['facility_id']} reports {r['co2_t']:.3g} t in {r['year']}; no facility emits "
                          f"over {MAX_FACILITY_T:.0e} t a year: wrong units (kg?)")
    for col, allowed in (("sector", SECTORS), ("co2_basis", BASES)):
        if not df[col].isin(allowed).all():
            raise IngestError(f"{name}: {col} must be one of {allowed}, found {sorted(set(df[col]) - set(allowed))}")
    yr = pd.to_numeric(df["year"], errors="coerce")
    if yr.isna().any() or (yr < 1990).any() or (yr > 2100).any():
        raise IngestError(f"{name}: years must lie in 1990..2100")
    df["year"] = yr.astype("int64")
    lon, lat = df["lon"].astype(float), df["lat"].astype(float)
    if ((lon.abs() > 180) | (lat.abs() > 90)).any():
        raise IngestError(f"{name}: coordinates outside lon/lat bounds for {df.loc[(lon.abs() > 180) | (lat.abs() > 90), 'facility_id'].iloc[0]}")
    located = df["located"].astype(bool) & lon.notna() & lat.notna()
    df = df.assign(lon=lon, lat=lat, located=located)
    if df.duplicated(["facility_id", "year"]).any():
        r = df[df.duplicated(["facility_id", "year"])].iloc[0]
        raise IngestError(f"{name}: duplicate facility-year {r['facility_id']} {r['year']}")
    out = df[list(COLUMNS)].sort_values(["facility_id", "year"]).reset_index(drop=True)
    out.attrs.update({"units": "co2_t: tonnes per year (CO2 or CO2e, see co2_basis); lon/lat: degrees",
                      "source_file": name, "dropped_missing_co2": n0 - len(out)})
    return out


def read_eprtr(path: Path) -> pd.DataFrame:
    """E-PRTR / Industrial Reporting facility CO2 (Climate TRACE's harmonised copy of EEA data), t/yr."""
    path = Path(path)
    raw = read_table(path, "E-PRTR")
    need(raw, ("source_id", "source_name", "iso3_country", "original_inventory_sector", "lat", "lon", "year",
               "co2_tonnes"), path.name)
    if "gas" in raw.columns:  # the carrier's table may hold other gases: keep CO2
        raw = raw[raw["gas"].astype(str).str.lower() == "co2"]
    sec = map_codes(raw["original_inventory_sector"], EPRTR_ACTIVITIES, "E-PRTR activities", path.name)
    df = pd.DataFrame({"facility_id": "EU-EPRTR:" + raw["source_id"].astype(str), "name": raw["source_name"],
                       "iso3": raw["iso3_country"], "lon": number(raw["lon"], "lon", path.name),
                       "lat": number(raw["lat"], "lat", path.name), "located": True, "year": raw["year"],
                       "co2_t": number(raw["co2_tonnes"], "co2_tonnes", path.name), "co2_basis": "co2", **sec})
    return finish_facilities(df, path.name, "eprtr")


def _hotmaps_point(geom: pd.Series, name: str) -> tuple[pd.Series, pd.Series]:
    m = geom.astype(str).str.extract(r"^(?:SRID=(\d+);)?POINT\s*\(\s*(\S+)\s+(\S+)\s*\)$")
    has = geom.notna()
    if (m[1].isna() & has).any():
        raise IngestError(f"{name}: geom {geom[m[1].isna() & has].iloc[0]!r} is not 'SRID=4326;POINT(lon lat)'")
    if (m[0].notna() & (m[0] != "4326")).any():
        raise IngestError(f"{name}: geometries must be in SRID 4326, found {sorted(set(m[0].dropna()) - {'4326'})}")
    return number(m[1], "geom lon", name), number(m[2], "geom lat", name)


def read_hotmaps(path: Path) -> pd.DataFrame:
    """Hotmaps industrial database: 2014 emissions per site (ETS verified where present, else E-PRTR), t/yr.

    ``co2_basis`` is ``co2e`` for ETS values (verified emissions in tCO2e), ``co2`` for E-PRTR CO2.
    Sites without a ``geom`` (524 of 5,029) keep NaN coordinates and ``located`` False.
    """
    path = Path(path)
    raw = read_table(path, "Hotmaps", sep=sniff_sep(path))
    need(raw, ("SiteID", "SiteName", "Country", "geom", "Subsector", "Emissions_ETS_2014", "Emissions_EPRTR_2014"),
         path.name)
    unknown = sorted(set(raw["Country"].dropna()) - set(COUNTRY_NAMES))
    if unknown:
        raise IngestError(f"{path.name}: unknown country name(s) {unknown}")
    sub = raw["Subsector"].map(HOTMAPS_SUBSECTORS)
    if sub.isna().any():
        raise IngestError(f"{path.name}: unknown Hotmaps subsector(s) {sorted(set(raw.loc[sub.isna(), 'Subsector']))}")
    lon, lat = _hotmaps_point(raw["geom"], path.name)
    ets = number(raw["Emissions_ETS_2014"], "Emissions_ETS_2014", path.name)
    eprtr = number(raw["Emissions_EPRTR_2014"], "Emissions_EPRTR_2014", path.name)
    df = pd.DataFrame({"facility_id": "EU-HOTMAPS:" + raw["SiteID"].astype(str),
                       "name": raw["SiteName"].fillna(raw.get("CompanyName")), "iso3": raw["Country"].map(COUNTRY_NAMES),
                       "lon": lon, "lat": lat, "located": lon.notna(), "year": 2014,
                       "co2_t": ets.where(ets.notna(), eprtr), "co2_basis": np.where(ets.notna(), "co2e", "co2"),
                       "sector": "industry", "subsector": sub})
    return finish_facilities(df, path.name, "hotmaps")


def israel_sector(activity: pd.Series, name: str) -> pd.DataFrame:
    """(sector, subsector) from Israel PRTR activity strings ``<category> : <activity> : <code> <text>``."""
    parts = activity.astype(str).str.split(" : ")
    cat = parts.str[0].str.strip().str.lower()
    code = parts.str[-1].str.extract(r"^\s*(\d+)")[0].fillna("")
    rules: list[tuple[str, str, tuple[str, str]]] = [  # (category, code prefix, result), first match wins
        ("energy industries", "35", ("power", "electricity")), ("energy industries", "19", ("industry", "refineries")),
        ("energy industries", "06", ("industry", "oil_gas")), ("energy industries", "", ("industry", "energy_other")),
        ("mineral industry", "2394", ("industry", "cement")), ("mineral industry", "231", ("industry", "glass")),
        ("mineral industry", "08", ("industry", "mining")), ("mineral industry", "", ("industry", "minerals_other")),
        ("metals", "241", ("industry", "steel")), ("metals", "2431", ("industry", "steel")),
        ("metals", "24", ("industry", "non_ferrous")), ("metals", "", ("industry", "metals_other")),
        ("chemical industry", "", ("industry", "chemicals")), ("food and beverage industry", "", ("industry", "food")),
        ("waste and sewage", "", ("other", "waste")), ("agriculture", "", ("other", "agriculture")),
        ("other", "17", ("industry", "paper")), ("other", "36", ("other", "water")),
        ("other", "", ("industry", "other_manufacturing")),
    ]
    sector = pd.Series(None, index=activity.index, dtype=object)
    subsector = pd.Series(None, index=activity.index, dtype=object)
    for c, prefix, (s, sub) in rules:
        hit = sector.isna() & (cat == c) & code.str.startswith(prefix)
        sector[hit], subsector[hit] = s, sub
    if sector.isna().any():
        raise IngestError(f"{name}: unknown Israel PRTR category {sorted(set(cat[sector.isna()]))}")
    return pd.DataFrame({"sector": sector, "subsector": subsector})


def read_israel_prtr(path: Path) -> pd.DataFrame:
    """Israel PRTR facility CO2 (Climate TRACE's copy), t/yr."""
    path = Path(path)
    raw = read_table(path, "Israel PRTR")
    need(raw, ("source_id", "source_name", "iso3_country", "original_inventory_sector", "lat", "lon", "year",
               "co2_tonnes"), path.name)
    df = pd.DataFrame({"facility_id": "IL-PRTR:" + raw["source_id"].astype(str), "name": raw["source_name"],
                       "iso3": raw["iso3_country"], "lon": number(raw["lon"], "lon", path.name),
                       "lat": number(raw["lat"], "lat", path.name), "located": True, "year": raw["year"],
                       "co2_t": number(raw["co2_tonnes"], "co2_tonnes", path.name), "co2_basis": "co2",
                       **israel_sector(raw["original_inventory_sector"], path.name)})
    return finish_facilities(df, path.name, "israel_prtr")


def read_canada_ghgrp(path: Path) -> pd.DataFrame:
    """Canada GHGRP facility totals (OpenClimate's wide table ``co2e_t_YYYY``), tCO2e/yr.

    Coordinates, where given, are often city centroids: ``located`` is False for every row (rank and
    total, never place by them).  No industry code: ``sector`` ``other``, ``subsector`` ``unknown``.
    """
    path = Path(path)
    raw = read_table(path, "Canada GHGRP")
    need(raw, ("actor_id", "names", "province", "lat", "lon"), path.name)
    years = {c: int(m.group(1)) for c in raw.columns if (m := re.fullmatch(r"co2e_t_(\d{4})", c))}
    if not years:
        raise IngestError(f"{path.name} has no co2e_t_YYYY columns")
    long = raw.melt(id_vars=["actor_id", "names", "province", "lat", "lon"], value_vars=list(years),
                    var_name="col", value_name="v")
    df = pd.DataFrame({"facility_id": "CA-GHGRP:" + long["actor_id"].astype(str).str.replace("CA:ECCC:", "", regex=False),
                       "name": long["names"].astype(str).str.split(" | ", regex=False).str[0], "iso3": "CAN",
                       "region": long["province"], "lon": number(long["lon"], "lon", path.name),
                       "lat": number(long["lat"], "lat", path.name), "located": False, "year": long["col"].map(years),
                       "co2_t": number(long["v"], "co2e", path.name), "co2_basis": "co2e", "sector": "other",
                       "subsector": "unknown"})
    return finish_facilities(df, path.name, "canada_ghgrp")


def read_facility_file(path: Path, countries: Path) -> pd.DataFrame:
    """Any supported facility file, the reader chosen by its columns (GHGRP and EUTL included); ``countries``: the
    NE countries file that places EUTL installations (:data:`ingest.boundaries.COUNTRIES_FILE` under the caller's
    data dir; read only for an EUTL file)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".zip") and ("ghgp" in path.name or "data_summary" in path.name):
        from ingest.ghgrp import read_ghgrp_workbook

        return read_ghgrp_workbook(path)
    cols = set(read_table(path, "facility", nrows=2, sep=sniff_sep(path)).columns)
    if {"reporting_year", "Facility Id"} <= cols:
        from ingest.ghgrp import read_ghgrp_long

        return read_ghgrp_long(path)
    if {"MainActivityTypeCode", "InstallationNameOrAircraftOperatorCode"} <= cols:
        from ingest.eutl import read_eutl

        return read_eutl([path], countries)
    if {"Subsector", "geom"} <= cols:
        return read_hotmaps(path)
    if "actor_id" in cols:
        return read_canada_ghgrp(path)
    if {"co2_tonnes", "sector_id"} <= cols:
        return read_eprtr(path)
    if "co2_tonnes" in cols:
        return read_israel_prtr(path)
    raise IngestError(f"{path.name}: not a known facility-emissions layout (columns {sorted(cols)[:12]})")


class FacilityEmissionsAdapter(BaseAdapter):
    """E-PRTR, EU ETS, Hotmaps, Israel PRTR and Canada GHGRP files -> one facility table."""

    info = INFO
    eutl_url: str = EUTL_URL

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.urls: dict[str, str] = {"eprtr": EPRTR_URL, "israel_prtr": ISRAEL_URL, "hotmaps": HOTMAPS_URL}

    def download(self, start: date, end: date) -> list[Path]:
        """The carriers' files (every year at once): E-PRTR and Israel zips, Hotmaps CSV, EUTL per country.

        Canada's table is OpenClimate's derived compilation with no publisher file of that layout: pass it
        with --file.
        """
        from ingest.download import fetch
        from ingest.eutl import EutlAdapter

        out = [fetch(u, source=self.info.name, settings=self.settings) for u in self.urls.values()]
        eutl = EutlAdapter(self.settings)
        eutl.url = self.eutl_url
        return out + eutl.download(start, end)

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if not paths:
            raise IngestError("facility emissions need at least one file")
        paths = [Path(p) for p in paths]
        eutl = [p for p in paths if p.name.startswith("installations-")]
        from ingest.boundaries import COUNTRIES_FILE

        countries = self.settings.data_dir / COUNTRIES_FILE
        frames = [read_facility_file(p, countries) for p in paths if p not in eutl]
        if eutl:
            from ingest.eutl import read_eutl

            frames.append(read_eutl(eutl, countries))
        out = pd.concat(frames, ignore_index=True)
        self.validate(out)
        return out

    def validate(self, data: Data) -> None:
        if not isinstance(data, pd.DataFrame) or any(c not in data.columns for c in COLUMNS):
            raise IngestError(f"facility emissions must be a table with {COLUMNS}")
        if data.duplicated(["facility_id", "year"]).any():
            raise IngestError("facility emissions have duplicate (facility_id, year) rows")
