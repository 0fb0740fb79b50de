"""The current EDGAR country x sector table (EDGAR 2024/2025 GHG booklet), fossil CO2 rows.

Published layout (``EDGAR_2024_GHG_booklet_2024.xlsx``, sheet ``GHG_by_sector_and_country``; the same
columns in its CSV exports): ``Substance, Sector, EDGAR Country Code, Country, 1970, 1971, ..., 2023``
(one column per year, values in Mt yr-1; CO2 in Mt CO2, the other substances ``GWP_100_AR5_CH4``,
``GWP_100_AR5_N2O``, ``GWP_100_AR5_F-gases`` in Mt CO2eq).  The 8 sectors are
:data:`SECTORS_2024`.  Besides countries, ``EDGAR Country Code`` holds ``AIR``/``SEA`` (international
bunkers), ``EU27`` and ``GLOBAL TOTAL`` (aggregates, dropped here).  Older booklets name the sheet
``fossil_CO2_by_sector_and_countr``; it is read the same way.

:func:`read_edgar_current` returns only ``Substance == "CO2"`` rows in the long layout of
:func:`ingest.edgar.read_edgar_v5` (``code, name, sector, year, emissions``, Mt CO2 yr-1), with
``attrs['inventory'] = "edgar_2024"`` — the key of its rows in :data:`ingest.sector_map.SECTOR_MAP`,
so ``national_sector_shares(table, inventory="edgar_2024")`` maps it to carbonmap's sectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo

INVENTORY = "edgar_2024"
SHEETS = ("GHG_by_sector_and_country", "fossil_CO2_by_sector_and_countr")
ID_COLUMNS = ("Substance", "Sector", "EDGAR Country Code", "Country")
SECTORS_2024 = ("Agriculture", "Buildings", "Fuel Exploitation", "Industrial Combustion", "Power Industry",
                "Processes", "Transport", "Waste")
SUBSTANCES = ("CO2", "GWP_100_AR5_CH4", "GWP_100_AR5_N2O", "GWP_100_AR5_F-gases")
AGGREGATE_CODES = ("EU27", "GLOBAL TOTAL")
MAX_MT = 20_000.0
"""No country-sector emits more than this (Mt CO2 yr-1; China's power sector is ~5,500)."""
BOOKLET_URL = "https://edgar.jrc.ec.europa.eu/booklet/EDGAR_{release}_GHG_booklet_{release}.xlsx"

INFO = SourceInfo(
    name="edgar_2024",
    title="EDGAR 2024 GHG booklet: fossil CO2 by country and sector (8 sectors)",
    kind="statistical",
    licence="CC-BY-4.0 (EC-JRC/IEA EDGAR, Crippa et al. 2024)",
    url="https://edgar.jrc.ec.europa.eu/report_2024",
    shipped=(),
    real=False,
    note="no booklet ships in data/; reader tested on a format-exact fixture (values synthetic); "
         "`--download` fetches the real workbook",
)


def _raw_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            book = pd.ExcelFile(path, engine="openpyxl")
        except Exception as e:  # zipfile.BadZipFile, KeyError, InvalidFileException...
            raise IngestError(f"{path.name} is not a readable .xlsx workbook: {e}") from e
        with book:
            sheet = next((s for s in SHEETS if s in book.sheet_names), None)
            if sheet is None:
                raise IngestError(f"{path.name} has none of the EDGAR sheets {list(SHEETS)}; found {book.sheet_names}")
            return book.parse(sheet)
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e


def _year_columns(raw: pd.DataFrame, name: str) -> dict[object, int]:
    years: dict[object, int] = {}
    for c in raw.columns:
        if c in ID_COLUMNS:
            continue
        try:
            y = int(float(str(c)))
        except ValueError:
            continue
        if float(str(c)) == y and 1900 <= y <= 2100:
            years[c] = y
    if not years:
        raise IngestError(f"{name}: no year columns (1970, 1971, ...) after {list(ID_COLUMNS)}")
    ys = sorted(years.values())
    if len(set(ys)) != len(ys):
        raise IngestError(f"{name}: duplicate year columns")
    if ys != list(range(ys[0], ys[-1] + 1)):
        raise IngestError(f"{name}: year columns are not consecutive ({ys[0]}..{ys[-1]} with gaps)")
    return years


def read_edgar_current(path: Path) -> pd.DataFrame:
    """Read and validate the current EDGAR country x sector table; fossil CO2, Mt CO2 yr-1, long format.

    Columns ``code, name, sector, year, emissions``; aggregates (EU27, GLOBAL TOTAL) dropped; empty
    cells (no emission reported) dropped.  IngestError on missing columns, unknown sectors or
    substances, non-numeric, negative or implausible (> 20 Gt) values, and duplicate rows.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"EDGAR file not found: {path}")
    raw = _raw_table(path)
    missing = [c for c in ID_COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(f"{path.name} lacks the EDGAR column(s) {missing}; found {list(raw.columns)[:8]}")
    years = _year_columns(raw, path.name)
    raw = raw.dropna(subset=["Substance", "Sector", "EDGAR Country Code"], how="all")
    unknown_sub = sorted(set(raw["Substance"].astype(str)) - set(SUBSTANCES))
    if unknown_sub:
        raise IngestError(f"{path.name}: unknown substance(s) {unknown_sub}; expected {list(SUBSTANCES)}")
    co2 = raw[(raw["Substance"] == "CO2") & ~raw["EDGAR Country Code"].isin(AGGREGATE_CODES)]
    if co2.empty:
        raise IngestError(f"{path.name}: no country rows with Substance 'CO2'")
    unknown = sorted(set(co2["Sector"].astype(str)) - set(SECTORS_2024))
    if unknown:
        raise IngestError(f"{path.name}: unknown EDGAR sector(s) {unknown}; expected {list(SECTORS_2024)}")
    key = co2[["EDGAR Country Code", "Sector"]].astype(str)
    dup = key.duplicated(keep=False)
    if dup.any():
        r = key[dup].iloc[0]
        raise IngestError(f"{path.name}: duplicate rows for ({r['EDGAR Country Code']}, {r['Sector']}, CO2)")
    long = co2.melt(id_vars=list(ID_COLUMNS), value_vars=list(years), var_name="col", value_name="raw")
    long = long[long["raw"].notna() & (long["raw"].astype(str).str.strip() != "")]
    vals = pd.to_numeric(long["raw"], errors="coerce")
    if vals.isna().any():
        r = long[vals.isna()].iloc[0]
        raise IngestError(f"{path.name}: non-numeric value {r['raw']!r} for {r['EDGAR Country Code']} "
                          f"{r['Sector']} {years[r['col']]}")
    v = vals.to_numpy(np.float64)
    if (v < 0).any() or (v > MAX_MT).any():
        i = int(np.flatnonzero((v < 0) | (v > MAX_MT))[0])
        r = long.iloc[i]
        raise IngestError(f"{path.name}: emissions {v[i]:g} for {r['EDGAR Country Code']} {r['Sector']} "
                          f"{years[r['col']]} outside 0..{MAX_MT:g} Mt CO2 yr-1 — wrong units (kt?)")
    out = pd.DataFrame({
        "code": long["EDGAR Country Code"].astype(str).to_numpy(),
        "name": long["Country"].astype(str).to_numpy(),
        "sector": long["Sector"].astype(str).to_numpy(),
        "year": long["col"].map(years).astype("int32").to_numpy(),
        "emissions": v,
    }).sort_values(["code", "sector", "year"]).reset_index(drop=True)
    out.attrs.update({"units": "Mt CO2 yr-1", "inventory": INVENTORY, "source_file": path.name})
    return out


class EDGARCurrentAdapter(BaseAdapter[pd.DataFrame]):
    """The EDGAR 2024 booklet (xlsx or its CSV export) -> long fossil CO2 table by country and 8 sectors."""

    info = INFO
    release = 2024

    def download(self, start: date, end: date) -> list[Path]:
        """The booklet workbook of :attr:`release` (one file for all years; cached, retried)."""
        from ingest.download import fetch

        return [fetch(BOOKLET_URL.format(release=self.release), source=self.info.name, settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("the EDGAR booklet table is one file (.xlsx or its CSV export)")
        return read_edgar_current(paths[0])
