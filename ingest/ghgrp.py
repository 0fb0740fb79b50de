"""US EPA Greenhouse Gas Reporting Program (GHGRP), direct emitters -> the common facility table.

Two layouts, same columns:

- the shipped long CSV ``point_sources/facility-emissions/us_ghgrp_direct_emitters_2010-2020_2022-2023_long.csv.gz``:
  EPA's yearly "Direct Emitters" sheets stacked with a ``reporting_year`` column (2010-2020, 2022,
  2023; 2021 is missing from this compilation);
- EPA's data summary workbooks ``ghgp_data_YYYY.xlsx`` (sheet ``Direct Point Emitters``, older years
  ``Direct Emitters``; 3 title rows above the header), alone or inside EPA's
  ``YYYY_data_summary_spreadsheets.zip`` which :class:`GHGRPAdapter` downloads.

Columns used: ``Facility Id, Facility Name, State, Latitude, Longitude, Primary NAICS Code, Industry
Type (sectors), CO2 emissions (non-biogenic)`` (metric tons per year: ``co2_t``, ``co2_basis == "co2"``).
Facilities reporting no fossil CO2 (landfills reporting only CH4, ...) are dropped: in 2023 5,811 of
the 6,470 direct emitters report CO2, 2.228 Gt in total (2.383 Gt CO2e all gases).

Sector (:func:`classify`): ``power`` where the primary NAICS code is 2211 (electric power generation,
transmission and distribution) or the facility's only GHGRP industry type is ``Power Plants`` (cogeneration
plants coded under chemicals or steam supply); everything else by NAICS: refineries 324110, cement
327310, lime 327410, glass 3272, steel 3311/3312, non-ferrous 3313/3314, chemicals 325, paper 322, food
311/312, oil and gas 211/213/2212/486, mining 212, other manufacturing 31-33 -> ``industry``; waste 562
and services/institutions -> ``other``.  ``region`` is ``US-<state>``; Puerto Rico, Guam, the US
Virgin Islands, American Samoa and the Northern Mariana Islands get their own ISO3.

Publication lag: year Y appears in EPA's October release of Y+1; 300 days after the year ends.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from ingest.activity import register_lag
from ingest.base import BaseAdapter, Data, IngestError, SourceInfo
from ingest.facility_emissions import COLUMNS, finish_facilities, need, number, read_table

GHGRP_FILE = "point_sources/facility-emissions/us_ghgrp_direct_emitters_2010-2020_2022-2023_long.csv.gz"
EPA_ZIP_URL = "https://www.epa.gov/system/files/other-files/{released}-10/{year}_data_summary_spreadsheets.zip"
LATEST_YEAR = 2023
NEEDED = ("Facility Id", "Facility Name", "State", "Latitude", "Longitude", "Primary NAICS Code",
          "Industry Type (sectors)", "CO2 emissions (non-biogenic)")
SHEETS = ("Direct Point Emitters", "Direct Emitters")
TERRITORIES = {"PR": "PRI", "GU": "GUM", "VI": "VIR", "AS": "ASM", "MP": "MNP"}

INFO = SourceInfo(
    name="us_ghgrp",
    title="US EPA GHGRP direct emitters (facility CO2 by year)",
    kind="point_sources",
    licence="US public domain (EPA)",
    url="https://www.epa.gov/ghgreporting/data-sets",
    shipped=(GHGRP_FILE,),
    note="2010-2020, 2022-2023 (2021 missing from the shipped compilation); CO2 non-biogenic",
)
LAG_DAYS = register_lag(INFO.name, 300)

NAICS_RULES: tuple[tuple[str, str, str], ...] = (
    ("2211", "power", "electricity"),
    ("324110", "industry", "refineries"), ("3241", "industry", "petroleum_coal_products"),
    ("327310", "industry", "cement"), ("327410", "industry", "lime"), ("3272", "industry", "glass"),
    ("327", "industry", "minerals_other"),
    ("3311", "industry", "steel"), ("3312", "industry", "steel"), ("3313", "industry", "non_ferrous"),
    ("3314", "industry", "non_ferrous"), ("331", "industry", "metals_other"),
    ("325", "industry", "chemicals"), ("322", "industry", "paper"), ("311", "industry", "food"),
    ("312", "industry", "food"), ("211", "industry", "oil_gas"), ("213", "industry", "oil_gas"),
    ("2212", "industry", "oil_gas"), ("486", "industry", "oil_gas"), ("212", "industry", "mining"),
    ("31", "industry", "other_manufacturing"), ("32", "industry", "other_manufacturing"),
    ("33", "industry", "other_manufacturing"), ("562", "other", "waste"),
)
"""Primary NAICS prefix -> (sector, subsector); first match wins; unmatched -> (other, other)."""
SECTOR_FALLBACK: tuple[tuple[str, str, str], ...] = (
    ("Power Plants", "power", "electricity"), ("Refineries", "industry", "refineries"),
    ("Chemicals", "industry", "chemicals"), ("Minerals", "industry", "minerals_other"),
    ("Metals", "industry", "metals_other"), ("Pulp and Paper", "industry", "paper"),
    ("Petroleum and Natural Gas Systems", "industry", "oil_gas"), ("Waste", "other", "waste"),
)
"""GHGRP industry type -> (sector, subsector) where the NAICS code is missing."""


def classify(naics: pd.Series, sectors: pd.Series) -> pd.DataFrame:
    """``sector, subsector`` of GHGRP facilities from the primary NAICS code and the industry types."""
    code = pd.to_numeric(naics, errors="coerce").astype("Int64").astype("string").fillna("")
    types = sectors.astype("string").fillna("")
    sector = pd.Series("other", index=naics.index, dtype=object)
    sub = pd.Series("other", index=naics.index, dtype=object)
    done = pd.Series(False, index=naics.index)
    only_power = types.str.strip() == "Power Plants"
    sector[only_power], sub[only_power], done = "power", "electricity", only_power.copy()
    for prefix, s, b in NAICS_RULES:
        hit = ~done & (code != "") & code.str.startswith(prefix)
        sector[hit], sub[hit] = s, b
        done |= hit
    for name, s, b in SECTOR_FALLBACK:
        hit = ~done & (code == "") & types.str.contains(name, regex=False)
        sector[hit], sub[hit] = s, b
        done |= hit
    return pd.DataFrame({"sector": sector, "subsector": sub})


def ghgrp_table(raw: pd.DataFrame, name: str) -> pd.DataFrame:
    """EPA direct-emitter rows (with ``reporting_year``) -> the common facility table (t CO2 per year)."""
    raw = raw.rename(columns=lambda c: str(c).strip())
    need(raw, (*NEEDED, "reporting_year"), name)
    state = raw["State"].astype("string").str.strip().str.upper()
    lat, lon = number(raw["Latitude"], "Latitude", name), number(raw["Longitude"], "Longitude", name)
    df = pd.DataFrame({
        "facility_id": "US-GHGRP:" + pd.to_numeric(raw["Facility Id"], errors="coerce").astype("Int64").astype(str),
        "name": raw["Facility Name"], "iso3": state.map(TERRITORIES).fillna("USA"),
        "region": ("US-" + state).where(~state.isin(list(TERRITORIES)) & state.notna(), None),
        "lon": lon, "lat": lat, "located": lat.notna() & lon.notna(), "year": raw["reporting_year"],
        "co2_t": number(raw["CO2 emissions (non-biogenic)"], "CO2 emissions (non-biogenic)", name),
        "co2_basis": "co2", **classify(raw["Primary NAICS Code"], raw["Industry Type (sectors)"]),
    })
    if df["facility_id"].str.endswith("<NA>").any():
        raise IngestError(f"{name}: rows without a numeric Facility Id")
    return finish_facilities(df, name, "us_ghgrp")


def read_ghgrp_long(path: Path) -> pd.DataFrame:
    """The stacked long CSV (``reporting_year`` + EPA's Direct Emitters columns) -> facility table."""
    path = Path(path)
    raw = read_table(path, "GHGRP long", dtype={"Primary NAICS Code": str, "Zip Code": str})
    return ghgrp_table(raw, path.name)


def _sheet(data: bytes, year: int, name: str) -> pd.DataFrame:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds of errors on a bad workbook
        raise IngestError(f"{name} is not a readable xlsx workbook: {e}") from e
    sheet = next((s for s in SHEETS if s in wb.sheetnames), None)
    if sheet is None:
        raise IngestError(f"{name} has no sheet {SHEETS}; found {wb.sheetnames}")
    rows = list(wb[sheet].iter_rows(values_only=True))
    head = next((i for i, r in enumerate(rows[:15]) if r and str(r[0]).strip() == "Facility Id"), None)
    if head is None:
        raise IngestError(f"{name}: no 'Facility Id' header row in the first 15 rows of {sheet!r}")
    cols = [str(c).strip() if c is not None else f"_{j}" for j, c in enumerate(rows[head])]
    df = pd.DataFrame([r for r in rows[head + 1:] if r and r[0] is not None], columns=cols)
    return df.assign(reporting_year=year)


def read_ghgrp_workbook(path: Path) -> pd.DataFrame:
    """EPA's ``ghgp_data_YYYY.xlsx`` or the summary zip holding several -> facility table (all years in it)."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"GHGRP workbook not found: {path}")
    pat = re.compile(r"ghgp_data_(\d{4})\.xlsx$")
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as z:
                books = {int(m.group(1)): z.read(n) for n in z.namelist() if (m := pat.search(n))}
        except (zipfile.BadZipFile, OSError) as e:
            raise IngestError(f"{path.name} is not a readable zip: {e}") from e
        if not books:
            raise IngestError(f"{path.name} holds no ghgp_data_YYYY.xlsx workbook")
    else:
        m = pat.search(path.name)
        if not m:
            raise IngestError(f"{path.name}: expected a file named ghgp_data_YYYY.xlsx")
        books = {int(m.group(1)): path.read_bytes()}
    raw = pd.concat([_sheet(b, y, f"{path.name}:{y}") for y, b in sorted(books.items())], ignore_index=True)
    return ghgrp_table(raw, path.name)


class GHGRPAdapter(BaseAdapter):
    """GHGRP direct emitters: the long CSV, or EPA's summary workbooks (xlsx / zip)."""

    info = INFO
    url: str = EPA_ZIP_URL

    def download(self, start: date, end: date) -> list[Path]:
        """EPA's latest data summary zip (it holds every year's workbook), e.g. 2023 released October 2024."""
        from ingest.download import fetch

        if start.year > LATEST_YEAR:
            raise IngestError(f"GHGRP data reach {LATEST_YEAR} (released October {LATEST_YEAR + 1}); "
                              f"{start.year} is not published yet")
        return [fetch(self.url.format(released=LATEST_YEAR + 1, year=LATEST_YEAR), source=self.info.name,
                      settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        frames = []
        for p in map(Path, paths):
            frames.append(read_ghgrp_workbook(p) if p.suffix.lower() in (".zip", ".xlsx") else read_ghgrp_long(p))
        if not frames:
            raise IngestError("GHGRP needs at least one file")
        out = pd.concat(frames, ignore_index=True)
        self.validate(out)
        return out

    def validate(self, data: Data) -> None:
        if not isinstance(data, pd.DataFrame) or any(c not in data.columns for c in COLUMNS):
            raise IngestError(f"GHGRP data must be a table with {COLUMNS}")
        if data.duplicated(["facility_id", "year"]).any():
            raise IngestError("GHGRP data have duplicate (facility_id, year) rows")
