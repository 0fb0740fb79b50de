"""Global Carbon Budget national fossil CO2, flat CSV (``GCB<year>v<n>_MtCO2_flat.csv``).

Output of :func:`read_gcb`: one row per (iso3, year), columns

``iso3, country, m49, year, total, coal, oil, gas, cement, flaring, other, per_capita``

in Mt CO2 yr-1 (``per_capita`` in t CO2 person-1 yr-1).  Rows with ISO codes are kept, including
GCB's pseudo-countries ``XIA`` (international aviation), ``XIS`` (international shipping) and
``WLD`` (Global).  Entities without an ISO code (``Kuwaiti Oil Fires``, ``Pacific Islands (Palau)``,
``Ryukyu Islands``) are dropped after checking that they are 0 or empty since
:data:`NO_ISO_CHECK_FROM` (Kuwaiti Oil Fires is 1991 only), so nothing recent is lost.
``df.attrs["vintage"]`` is parsed from the file name, e.g. ``"2025v15"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo

COLUMNS: dict[str, str] = {
    "Country": "country",
    "ISO 3166-1 alpha-3": "iso3",
    "UN M49": "m49",
    "Year": "year",
    "Total": "total",
    "Coal": "coal",
    "Oil": "oil",
    "Gas": "gas",
    "Cement": "cement",
    "Flaring": "flaring",
    "Other": "other",
    "Per Capita": "per_capita",
}
"""Published column name -> canonical name."""

OUTPUT_COLUMNS = ("iso3", "country", "m49", "year", "total", "coal", "oil", "gas", "cement", "flaring", "other",
                  "per_capita")
FLUX_COLUMNS = ("total", "coal", "oil", "gas", "cement", "flaring", "other")
PSEUDO_COUNTRIES = {"WLD": "Global", "XIA": "International Aviation", "XIS": "International Shipping"}
NO_ISO_CHECK_FROM = 2000
GCB_FILE = "statistical/GCB2025v15_MtCO2_flat.csv"
"""Where the shipped GCB table lives under the data directory."""
"""Entities without an ISO code must be 0/empty from this year on (they are dropped)."""
MAX_MT = 60_000.0
"""No entity (not even Global) emits more than this, Mt CO2 yr-1; larger values mean wrong units."""

VINTAGE_RE = re.compile(r"GCB(\d{4}v\d+)", re.IGNORECASE)

INFO = SourceInfo(
    name="gcb",
    title="Global Carbon Budget national fossil CO2 emissions (flat CSV)",
    kind="statistical",
    licence="CC-BY-4.0",
    url="https://doi.org/10.5281/zenodo.17417124",
    shipped=("statistical/GCB2025v15_MtCO2_flat.csv", "statistical/GCB2024v17_MtCO2_flat.csv"),
    note="Friedlingstein et al., Global Carbon Budget 2025 (ESSD); vintages 2025v15 and 2024v17",
)


def parse_vintage(path: Path) -> str:
    """``"2025v15"`` from ``.../GCB2025v15_MtCO2_flat.csv``; IngestError if the name has no vintage."""
    m = VINTAGE_RE.search(Path(path).name)
    if not m:
        raise IngestError(f"cannot tell the GCB vintage from the file name {Path(path).name!r}; "
                          f"expected something like GCB2025v15_MtCO2_flat.csv")
    return m.group(1).lower()


def read_gcb(path: Path, vintage: str | None = None) -> pd.DataFrame:
    """Read and validate one GCB flat CSV; Mt CO2 yr-1, one row per (iso3, year)."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"GCB file not found: {path}")
    vintage = vintage or parse_vintage(path)
    try:
        raw = pd.read_csv(path, dtype={"ISO 3166-1 alpha-3": "string", "Country": "string"})
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(f"{path.name} lacks the GCB column(s) {missing}; found {list(raw.columns)}")
    df = raw[list(COLUMNS)].rename(columns=COLUMNS)
    for col in ("m49", "year", *FLUX_COLUMNS, "per_capita"):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() & df[col].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise IngestError(f"{path.name}: column {col!r} has a non-numeric value {df[col].iloc[i]!r} "
                              f"(country {df['country'].iloc[i]!r}, row {i + 2})")
        df[col] = num.astype("float64")

    no_iso = df["iso3"].isna() | (df["iso3"].str.strip() == "")
    recent = df[no_iso & (df["year"] >= NO_ISO_CHECK_FROM)]
    lost = recent[recent["total"].fillna(0).abs() > 0]
    if len(lost):
        r = lost.iloc[0]
        raise IngestError(f"{path.name}: entity {r['country']!r} has no ISO code but emits {r['total']} Mt in "
                          f"{int(r['year'])}; it would be lost")
    df = df[~no_iso].copy()
    df["iso3"] = df["iso3"].str.strip().str.upper().astype(str)
    if not df["iso3"].str.fullmatch(r"[A-Z]{3}").all():
        bad = df.loc[~df["iso3"].str.fullmatch(r"[A-Z]{3}"), "iso3"].iloc[0]
        raise IngestError(f"{path.name}: {bad!r} is not a 3-letter ISO code")
    if df["year"].isna().any():
        raise IngestError(f"{path.name}: a row has no year")
    df["year"] = df["year"].astype("int32")
    if not df["year"].between(1750, 2100).all():
        raise IngestError(f"{path.name}: years must lie in 1750..2100, found {df['year'].min()}..{df['year'].max()}")
    dup = df.duplicated(["iso3", "year"], keep=False)
    if dup.any():
        r = df[dup].iloc[0]
        raise IngestError(f"{path.name}: duplicate rows for ({r['iso3']}, {int(r['year'])}); "
                          f"each country-year must appear once")
    neg = df["total"] < 0
    if neg.any():
        r = df[neg].iloc[0]
        raise IngestError(f"{path.name}: negative Total {r['total']} Mt for ({r['iso3']}, {int(r['year'])})")
    big = df["total"] > MAX_MT
    if big.any():
        r = df[big].iloc[0]
        raise IngestError(f"{path.name}: Total {r['total']} for ({r['iso3']}, {int(r['year'])}) exceeds {MAX_MT} "
                          f"Mt CO2 yr-1; are the units MtCO2?")
    df["m49"] = df["m49"].astype("Int32")
    df = df[list(OUTPUT_COLUMNS)].sort_values(["iso3", "year"]).reset_index(drop=True)
    df.attrs.update({"vintage": vintage, "units": "Mt CO2 yr-1", "per_capita_units": "t CO2 person-1 yr-1",
                     "source_file": path.name})
    return df


def global_check(df: pd.DataFrame, year: int) -> tuple[float, float]:
    """(Global row, sum of all countries incl. XIA and XIS) for ``year``, Mt CO2 yr-1."""
    y = df[df["year"] == year]
    glob = float(y.loc[y["iso3"] == "WLD", "total"].sum())
    parts = float(y.loc[y["iso3"] != "WLD", "total"].sum())
    return glob, parts


def national_totals(df: pd.DataFrame, year: int) -> pd.Series:
    """Total Mt CO2 yr-1 by iso3 (countries plus XIA/XIS, without WLD) for ``year``; NaN -> 0."""
    y = df[(df["year"] == year) & (df["iso3"] != "WLD")]
    return y.set_index("iso3")["total"].fillna(0.0).rename(f"total_{year}")


def read_vintages(paths: Sequence[Path]) -> pd.DataFrame:
    """Several GCB vintages side by side, long format with a ``vintage`` column (first column)."""
    frames = []
    for p in paths:
        d = read_gcb(p)
        frames.append(d.assign(vintage=d.attrs["vintage"]))
    if not frames:
        raise IngestError("no GCB files given")
    out = pd.concat(frames, ignore_index=True)
    if out.duplicated(["vintage", "iso3", "year"]).any():
        raise IngestError("the same GCB vintage was given twice")
    out = out[["vintage", *OUTPUT_COLUMNS]]
    out.attrs.update({"units": "Mt CO2 yr-1", "vintages": sorted(out["vintage"].unique().tolist())})
    return out


class GCBAdapter(BaseAdapter[pd.DataFrame]):
    """GCB flat CSVs -> ``inventories.parquet`` (vintage, iso3, year, totals by fuel), Mt CO2 yr-1."""

    info = INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        return read_vintages(paths)

    def validate(self, data: pd.DataFrame) -> None:
        need = {"vintage", "iso3", "year", "total"}
        if not need <= set(data.columns):
            raise IngestError(f"GCB table lacks {sorted(need - set(data.columns))}")
        if data.duplicated(["vintage", "iso3", "year"]).any():
            raise IngestError("GCB table has duplicate (vintage, iso3, year) rows")
