"""Power plants: WRI Global Power Plant Database v1.3.0 source tables, and JRC-PPDB-OPEN v1.0 units.

:func:`read_gppd_sources` merges the per-source GPPD tables into one deduplicated plant table
(:data:`PLANT_COLUMNS`).  The dedup rule (GPPD's own precedence, simplified):

1. Each table gets a rank: a **national** table (``database_<ISO3>.csv``, ``finland_database.csv``,
   ``yemen_database.csv``) ranks 0; the multinational tables rank ``GEODB`` 1 < ``EPRTR`` 2 <
   ``CDMDB`` 3 (GPPD uses GEO for countries without machine-readable national data; E-PRTR and
   CDM only fill gaps).
2. For a country that has a national table, rows of the multinational tables for that country are
   dropped: the national source is authoritative there (as in GPPD's build).
3. Rows without usable coordinates (missing, or outside -180..180 / -90..90) are dropped: carbonmap
   cannot place them.  Their count and capacity are in ``attrs['dropped_no_coords']``.
4. Among the remaining rows of one country and one primary fuel, two rows from *different* sources
   are duplicates when their coordinates agree after rounding to 0.01 degree (about 1 km) or their
   normalised names (lower-case letters and digits only) are equal; only the rows of the
   best-ranked source in such a group are kept.  Rows of the same source are never merged.

``generation_gwh`` is the latest reported ``generation_gwh_<year>`` (``generation_year``), NaN if none;
GPPD's modelled ``estimated_generation_gwh`` is not used.

:func:`read_jrc_ppdb` returns the JRC units with coordinates, capacity, fuel type and reported annual
CO2 (``co2_kg_per_yr``, kg CO2 yr-1) of the latest reported year.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.country_names import NAME_TO_ISO3

PLANT_COLUMNS = ("plant_id", "name", "iso3", "lat", "lon", "capacity_mw", "primary_fuel", "generation_gwh",
                 "generation_year", "source")
MULTINATIONAL_RANK = {"GEODB": 1, "EPRTR": 2, "CDMDB": 3}
NATIONAL_FILES = {"finland_database.csv": "FIN", "yemen_database.csv": "YEM"}
REQUIRED = ("country", "name", "gppd_idnr", "capacity_mw", "latitude", "longitude")
COORD_ROUND = 2
"""Coordinates are compared after rounding to this many decimals (0.01 degree ~ 1 km)."""

GPPD_INFO = SourceInfo(
    name="gppd",
    title="WRI Global Power Plant Database v1.3.0 (per-source tables)",
    kind="point_sources",
    licence="CC-BY-4.0",
    url="https://datasets.wri.org/dataset/globalpowerplantdatabase",
    shipped=("point_sources/wri-gppd-v1.3.0/source_databases_csv",),
)
JRC_INFO = SourceInfo(
    name="jrc_ppdb",
    title="JRC Open Power Plants Database (JRC-PPDB-OPEN) v1.0",
    kind="point_sources",
    licence="CC-BY-4.0",
    url="https://data.jrc.ec.europa.eu/dataset/9810feeb-f062-49cd-8e76-8d8cfd488a05",
    shipped=("point_sources/jrc-ppdb-open-v1.0",),
)


def _source_of(path: Path) -> tuple[str, int, str | None]:
    """(source label, rank, national ISO3 or None) of one GPPD source table."""
    name = path.name
    if name in NATIONAL_FILES:
        return NATIONAL_FILES[name], 0, NATIONAL_FILES[name]
    m = re.fullmatch(r"database_([A-Z0-9]+)\.csv", name)
    if not m:
        raise IngestError(f"{name} is not a GPPD source table (expected database_<CODE>.csv)")
    code = m.group(1)
    if code in MULTINATIONAL_RANK:
        return code, MULTINATIONAL_RANK[code], None
    if re.fullmatch(r"[A-Z]{3}", code):
        return code, 0, code
    return code, 4, None


def _norm_name(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.lower().str.replace(r"[^a-z0-9]", "", regex=True)


def _read_one(path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    missing = [c for c in REQUIRED if c not in raw.columns]
    fuel_col = "primary_fuel" if "primary_fuel" in raw.columns else "fuel1" if "fuel1" in raw.columns else None
    if missing or fuel_col is None:
        raise IngestError(f"{path.name} lacks the GPPD column(s) {missing + ([] if fuel_col else ['primary_fuel'])}")
    gen_cols = sorted((c for c in raw.columns if re.fullmatch(r"generation_gwh_\d{4}", c)), reverse=True)
    gen = raw[gen_cols].apply(pd.to_numeric, errors="coerce") if gen_cols else pd.DataFrame(index=raw.index)
    has = gen.notna().to_numpy()
    first = has.argmax(axis=1) if gen_cols else np.zeros(len(raw), dtype=int)
    any_ = has.any(axis=1) if gen_cols else np.zeros(len(raw), dtype=bool)
    years = np.array([int(c[-4:]) for c in gen_cols]) if gen_cols else np.array([0])
    gvals = gen.to_numpy()[np.arange(len(raw)), first] if gen_cols else np.full(len(raw), np.nan)
    label, rank, _ = _source_of(path)
    return pd.DataFrame({
        "plant_id": raw["gppd_idnr"].astype(str),
        "name": raw["name"].fillna("").astype(str),
        "iso3": raw["country"].astype(str).str.upper(),
        "lat": pd.to_numeric(raw["latitude"], errors="coerce"),
        "lon": pd.to_numeric(raw["longitude"], errors="coerce"),
        "capacity_mw": pd.to_numeric(raw["capacity_mw"], errors="coerce"),
        "primary_fuel": raw[fuel_col].fillna("Other").astype(str),
        "generation_gwh": np.where(any_, gvals, np.nan),
        "generation_year": pd.Series(np.where(any_, years[first], 0), dtype="Int32").mask(~any_),
        "source": label,
        "_rank": rank,
    })


def read_gppd_sources(folder: Path) -> pd.DataFrame:
    """One deduplicated power-plant table from the GPPD source tables in ``folder`` (rule in module doc).

    Columns :data:`PLANT_COLUMNS`: capacity in MW, generation in GWh yr-1, lat/lon in degrees (EPSG:4326).
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise IngestError(f"no GPPD source tables (*.csv) in {folder}")
    frames = [_read_one(p) for p in files]
    df = pd.concat(frames, ignore_index=True)
    n_in = len(df)
    national = {iso for p in files for (_, rank, iso) in [_source_of(p)] if iso is not None and rank == 0}
    df = df[(df["_rank"] == 0) | ~df["iso3"].isin(national)]
    n_after_national = len(df)
    ok = df["lat"].between(-90, 90) & df["lon"].between(-180, 180)
    dropped = df[~ok]
    df = df[ok].copy()
    if (df["capacity_mw"] < 0).any():
        r = df[df["capacity_mw"] < 0].iloc[0]
        raise IngestError(f"negative capacity {r['capacity_mw']} MW for plant {r['plant_id']} ({r['source']})")
    df["_lat"] = df["lat"].round(COORD_ROUND)
    df["_lon"] = df["lon"].round(COORD_ROUND)
    df["_name"] = _norm_name(df["name"])
    keep = np.ones(len(df), dtype=bool)
    for key in (["iso3", "primary_fuel", "_lat", "_lon"], ["iso3", "primary_fuel", "_name"]):
        sub = df[keep]
        if key[-1] == "_name":
            sub = sub[sub["_name"] != ""]
        best = sub.groupby(key, dropna=False)["_rank"].transform("min")
        worse = sub.index[sub["_rank"] > best]
        keep &= ~df.index.isin(worse)
    merged = df[keep]
    dup_ids = merged.duplicated(["source", "plant_id"], keep=False)
    if dup_ids.any():
        r = merged[dup_ids].iloc[0]
        raise IngestError(f"GPPD source {r['source']} lists plant id {r['plant_id']} twice")
    out = merged[list(PLANT_COLUMNS)].sort_values(["iso3", "plant_id"]).reset_index(drop=True)
    out.attrs.update({
        "units": {"capacity_mw": "MW", "generation_gwh": "GWh yr-1", "lat": "degrees_north", "lon": "degrees_east"},
        "rows_in": n_in,
        "dropped_national_precedence": n_in - n_after_national,
        "dropped_no_coords": {"rows": len(dropped), "capacity_mw": float(dropped["capacity_mw"].sum())},
        "dropped_duplicates": int((~keep).sum()),
        "rule": "national table > GEODB > EPRTR > CDMDB; duplicates = same iso3+fuel and coords within 0.01 deg "
                "or same normalised name, from different sources",
    })
    return out


JRC_TABLES = ("JRC_OPEN_UNITS.csv", "JRC_OPEN_TEMPORAL.csv")
JRC_COLUMNS = ("eic_p", "eic_g", "name_p", "name_g", "iso3", "lat", "lon", "capacity_mw", "fuel", "status",
               "year_commissioned", "year_decommissioned", "co2_kg_per_yr", "generation_mwh", "co2_year")


def read_jrc_ppdb(folder: Path) -> pd.DataFrame:
    """JRC-PPDB-OPEN units with the reported annual CO2 of their latest reported year.

    Negative ``co2emitted`` values (5 in v1.0, all below 1 kt) are set to 0 and counted in
    ``attrs['negative_co2_set_to_zero']``.

    Columns :data:`JRC_COLUMNS`; ``co2_kg_per_yr`` kg CO2 yr-1, ``generation_mwh`` MWh yr-1,
    ``capacity_mw`` net MW of the unit.  Units without a reported year have NaN CO2; units
    without coordinates keep NaN lat/lon.
    """
    folder = Path(folder)
    for t in JRC_TABLES:
        if not (folder / t).is_file():
            raise IngestError(f"JRC-PPDB folder {folder} lacks {t}")
    units = pd.read_csv(folder / "JRC_OPEN_UNITS.csv")
    temporal = pd.read_csv(folder / "JRC_OPEN_TEMPORAL.csv")
    need_u = ("eic_p", "eic_g", "name_p", "name_g", "capacity_g", "type_g", "lat", "lon", "country", "status_g")
    need_t = ("eic_p", "eic_g", "cyear", "Generation", "co2emitted")
    for tab, need, name in ((units, need_u, "JRC_OPEN_UNITS.csv"), (temporal, need_t, "JRC_OPEN_TEMPORAL.csv")):
        missing = [c for c in need if c not in tab.columns]
        if missing:
            raise IngestError(f"{name} lacks the column(s) {missing}")
    if temporal.duplicated(["eic_p", "eic_g", "cyear"]).any():
        r = temporal[temporal.duplicated(["eic_p", "eic_g", "cyear"])].iloc[0]
        raise IngestError(f"JRC_OPEN_TEMPORAL.csv: duplicate year {r['cyear']} for unit {r['eic_g']}")
    co2 = pd.to_numeric(temporal["co2emitted"], errors="coerce")
    if (co2.isna() & temporal["co2emitted"].notna()).any():
        raise IngestError("JRC_OPEN_TEMPORAL.csv: non-numeric co2emitted (kg CO2 yr-1)")
    # the published table has 5 small negative values (< 1 kt, net-consumption artefacts): set to 0
    n_negative = int((co2 < 0).sum())
    temporal = temporal.assign(co2emitted=co2.clip(lower=0))
    units = units.drop_duplicates(["eic_p", "eic_g"])
    latest = temporal.sort_values("cyear").groupby(["eic_p", "eic_g"]).tail(1)
    df = units.merge(latest[["eic_p", "eic_g", "cyear", "Generation", "co2emitted"]], on=["eic_p", "eic_g"],
                     how="left")
    unknown = sorted(set(df["country"].dropna()) - set(NAME_TO_ISO3))
    if unknown:
        raise IngestError(f"JRC_OPEN_UNITS.csv: unknown country name(s) {unknown}")
    fuel = df["type_g"].astype(str).str.strip()
    fuel = fuel.str.replace("Fossil Hard Coal", "Fossil Hard coal").str.replace("Fossil gas", "Fossil Gas")
    out = pd.DataFrame({
        "eic_p": df["eic_p"].astype(str), "eic_g": df["eic_g"].astype(str),
        "name_p": df["name_p"].astype(str), "name_g": df["name_g"].astype(str),
        "iso3": df["country"].map(NAME_TO_ISO3),
        "lat": pd.to_numeric(df["lat"], errors="coerce"), "lon": pd.to_numeric(df["lon"], errors="coerce"),
        "capacity_mw": pd.to_numeric(df["capacity_g"], errors="coerce"),
        "fuel": fuel, "status": df["status_g"].astype(str).str.upper(),
        "year_commissioned": pd.to_numeric(df.get("year_commissioned"), errors="coerce").astype("Int32"),
        "year_decommissioned": pd.to_numeric(df.get("year_decommissioned"), errors="coerce").astype("Int32"),
        "co2_kg_per_yr": pd.to_numeric(df["co2emitted"], errors="coerce"),
        "generation_mwh": pd.to_numeric(df["Generation"], errors="coerce"),
        "co2_year": pd.to_numeric(df["cyear"], errors="coerce").astype("Int32"),
    })
    bad = out["lat"].notna() & ~(out["lat"].between(-90, 90) & out["lon"].between(-180, 180))
    if bad.any():
        raise IngestError(f"JRC_OPEN_UNITS.csv: unit {out.loc[bad, 'eic_g'].iloc[0]} has coordinates off the globe")
    out.attrs.update({"units": {"co2_kg_per_yr": "kg CO2 yr-1", "generation_mwh": "MWh yr-1", "capacity_mw": "MW"},
                      "negative_co2_set_to_zero": n_negative})
    return out.reset_index(drop=True)


class GPPDAdapter(BaseAdapter[pd.DataFrame]):
    info = GPPD_INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1 or not Path(paths[0]).is_dir():
            raise IngestError("GPPD takes one folder of source tables (source_databases_csv)")
        return read_gppd_sources(paths[0])


class JRCPPDBAdapter(BaseAdapter[pd.DataFrame]):
    info = JRC_INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1 or not Path(paths[0]).is_dir():
            raise IngestError("JRC-PPDB takes its folder (with JRC_OPEN_UNITS.csv and JRC_OPEN_TEMPORAL.csv)")
        return read_jrc_ppdb(paths[0])
