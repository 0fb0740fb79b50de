"""CEADs China national CO2 inventory, 1997-2019, by IPCC sectoral approach (47 sectors x 17 fuels + process).

File: ``China_CO2_Inventory_1997-2019_(IPCC_Sectoral_Emissions).xlsx`` (CEADs, Shan et al. 2018, 2020;
Guan et al. 2021), taken from Open-Earth-Foundation/OpenClimate@822037b7:harmonize/data/raw/CEADS_china/.
Licence: CEADs data are "freely available to the public and the scientific community" and users must
cite Shan et al. (2018, 2020) and Guan et al. (2021) and mention CEADs; there is **no formal open
licence**.

Layout: sheets ``NOTE``, ``sum``, ``Sum-Sec-Scope 1`` (summaries built from formulas) and one sheet per
year ``1997`` .. ``2019``.  A year sheet: row 1 = blank + the fuel columns (:data:`FUELS`, then
``Scope 2 Heat``, ``Scope 2 Electricity``, ``Other Energy``, ``Process``, ``Scope 1 Total``); row 2 = the
unit of every column, ``Mt CO2``; row 3 blank; row 4 ``Total Consumption``; rows 5-51 the 47 sectors
(:data:`SECTORS`; names padded with spaces, stripped here).  ``Process`` is cement-clinker process CO2
(only in *Nonmetal Mineral Products*).  The Scope 2 and Other Energy columns are 0 (checked: they would
double count).  The reader checks ``Scope 1 Total`` = fuels + Process on every row and ``Total
Consumption`` = the sum of the 47 sectors in every column.  Only the year sheets are read (with cached
values; a workbook saved without them fails).

:func:`read_ceads_china` -> ``year, ipcc_sector, fuel, co2_mt`` (fuel: the 17 fuels and ``Process``;
Mt CO2 yr-1).  Facts: total 9,794.8 Mt in 2019 (GCB 2025: 10,714 Mt for China 2019, 8.6 % more).

:func:`ceads_sector_totals` -> ``year, sector, co2_mt`` on carbonmap's national sectors:

====================================================================  =========================================
CEADs sector (fuel)                                                   carbonmap sector
====================================================================  =========================================
Production and Supply of Electric Power, Steam and Hot Water (all)    power (electricity and heat)
Coal / Petroleum and Natural Gas / Ferrous / Nonferrous / Nonmetal /  industry
Other Minerals Mining and Dressing; Logging and Transport of Wood
and Bamboo; all 30 manufacturing sectors (Food Processing .. Scrap
and waste, incl. Petroleum Processing and Coking and Process CO2 of
Nonmetal Mineral Products = cement); Production and Supply of Gas;
Production and Supply of Tap Water; Construction (all fuels)
Transportation, Storage, Post and Telecommunication Services:         ground_transport (road: gasoline, diesel;
all fuels except Kerosene                                             water: fuel oil; gas and LPG vehicles,
                                                                      pipelines; rail and buildings: coal etc.)
Transportation, Storage, Post ...: Kerosene                           domestic_aviation
Wholesale, Retail Trade and Catering; Others; Urban; Rural:           ground_transport (private and commercial
Gasoline and Diesel Oil                                               vehicles counted in these sectors)
Wholesale, Retail Trade and Catering; Others; Urban; Rural:           residential (buildings incl. commercial)
all other fuels
Farming, Forestry, Animal Husbandry, Fishery and Water Conservancy    other (agricultural machinery, fishing
(all fuels)                                                           vessels, irrigation)
====================================================================  =========================================

Caveats: the split of transport is by fuel, not by mode (fuel oil in transport includes domestic water
transport and may include some bunkers; Kerosene is the fuel of Chinese carriers and may include some
of their international flights, so ``domestic_aviation`` is an upper bound).  Kerosene and LPG of
households and services stay in ``residential``.  :func:`ceads_canonical` turns the sector totals into
the canonical yearly table of :mod:`ingest.activity` (iso3 ``CHN``, variables ``co2_power``,
``co2_industry``, ``co2_ground_transport``, ``co2_residential``, ``co2_domestic_aviation``,
``co2_other_sectors``; MtCO2).  Publication lag: CEADs publishes about two years after a year ends
(2019 appeared with Guan et al. 2021), so :data:`LAG_DAYS` = 730.
"""

from __future__ import annotations

import re
import urllib.parse
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import finish, register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo

SOURCE = "ceads"
LAG_DAYS = register_lag(SOURCE, 730)
COMMIT = "822037b7"
"""Open-Earth-Foundation/OpenClimate commit the shipped file was taken from (abbreviated)."""
FILE = "China_CO2_Inventory_1997-2019_(IPCC_Sectoral_Emissions).xlsx"
URL = (f"https://raw.githubusercontent.com/Open-Earth-Foundation/OpenClimate/{COMMIT}/harmonize/data/raw/"
       f"CEADS_china/{urllib.parse.quote(FILE)}")
SHIPPED = f"statistical/ceads-china/{FILE}"
FUELS = ("Raw Coal", "Cleaned Coal", "Other Washed Coal", "Briquettes", "Coke", "Coke Oven Gas", "Other Gas",
         "Other Coking Products", "Crude Oil", "Gasoline", "Kerosene", "Diesel Oil", "Fuel Oil", "LPG",
         "Refinery Gas", "Other Petroleum Products", "Natural Gas")
ZERO_COLUMNS = ("Scope 2 Heat", "Scope 2 Electricity", "Other Energy")
HEADER = (*FUELS, *ZERO_COLUMNS, "Process", "Scope 1 Total")
UNIT = "Mt CO2"
SECTORS = (
    "Farming, Forestry, Animal Husbandry, Fishery and Water Conservancy", "Coal Mining and Dressing",
    "Petroleum and Natural Gas Extraction", "Ferrous Metals Mining and Dressing",
    "Nonferrous Metals Mining and Dressing", "Nonmetal Minerals Mining and Dressing",
    "Other Minerals Mining and Dressing", "Logging and Transport of Wood and Bamboo", "Food Processing",
    "Food Production", "Beverage Production", "Tobacco Processing", "Textile Industry",
    "Garments and Other Fiber Products", "Leather, Furs, Down and Related Products",
    "Timber Processing, Bamboo, Cane, Palm Fiber & Straw Products", "Furniture Manufacturing",
    "Papermaking and Paper Products", "Printing and Record Medium Reproduction",
    "Cultural, Educational and Sports Articles", "Petroleum Processing and Coking",
    "Raw Chemical Materials and Chemical Products", "Medical and Pharmaceutical Products", "Chemical Fiber",
    "Rubber Products", "Plastic Products", "Nonmetal Mineral Products", "Smelting and Pressing of Ferrous Metals",
    "Smelting and Pressing of Nonferrous Metals", "Metal Products", "Ordinary Machinery",
    "Equipment for Special Purposes", "Transportation Equipment", "Electric Equipment and Machinery",
    "Electronic and Telecommunications Equipment", "Instruments, Meters, Cultural and Office Machinery",
    "Other Manufacturing Industry", "Scrap and waste", "Production and Supply of Electric Power, Steam and Hot Water",
    "Production and Supply of Gas", "Production and Supply of Tap Water", "Construction",
    "Transportation, Storage, Post and Telecommunication Services", "Wholesale, Retail Trade and Catering Services",
    "Others", "Urban", "Rural",
)
"""The 47 CEADs (IPCC sectoral approach) sectors, in the published order."""
TOTAL_ROW = "Total Consumption"
POWER_SECTOR = "Production and Supply of Electric Power, Steam and Hot Water"
TRANSPORT_SECTOR = "Transportation, Storage, Post and Telecommunication Services"
AGRICULTURE_SECTOR = "Farming, Forestry, Animal Husbandry, Fishery and Water Conservancy"
BUILDING_SECTORS = ("Wholesale, Retail Trade and Catering Services", "Others", "Urban", "Rural")
VEHICLE_FUELS = ("Gasoline", "Diesel Oil")
AVIATION_FUEL = "Kerosene"
CARBONMAP_SECTORS = ("power", "industry", "ground_transport", "residential", "domestic_aviation", "other")
CANONICAL_VARIABLE = {"power": "co2_power", "industry": "co2_industry", "ground_transport": "co2_ground_transport",
                      "residential": "co2_residential", "domestic_aviation": "co2_domestic_aviation",
                      "other": "co2_other_sectors"}
MAX_TOTAL_MT = 20_000.0
MIN_TOTAL_MT = 1_000.0
"""China's total lies between these (Mt CO2; 2,924 in 1997, 9,795 in 2019); outside means wrong units."""
_YEAR_RE = re.compile(r"^\d{4}$")

INFO = SourceInfo(
    name=SOURCE,
    title="CEADs China CO2 inventory 1997-2019 by IPCC sector (47) and fuel (17 + process)",
    kind="statistical",
    licence="free to use with citation (Shan et al. 2018, 2020; Guan et al. 2021; CEADs); no formal open licence",
    url="https://www.ceads.net/data/nation/",
    shipped=(SHIPPED, "statistical/ceads-china/README.md"),
    note="Mt CO2 yr-1; OpenClimate@822037b7 copy of the CEADs workbook",
)


def carbonmap_sector(ipcc_sector: str, fuel: str) -> str:
    """The carbonmap national sector of one CEADs (sector, fuel) cell (the table in the module docstring)."""
    if ipcc_sector == POWER_SECTOR:
        return "power"
    if ipcc_sector == AGRICULTURE_SECTOR:
        return "other"
    if ipcc_sector == TRANSPORT_SECTOR:
        return "domestic_aviation" if fuel == AVIATION_FUEL else "ground_transport"
    if ipcc_sector in BUILDING_SECTORS:
        return "ground_transport" if fuel in VEHICLE_FUELS else "residential"
    if ipcc_sector in SECTORS:
        return "industry"
    raise IngestError(f"unknown CEADs sector {ipcc_sector!r}")


def _cell(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise IngestError(f"{where} is {v!r}, not a number (a workbook saved without computed values, or cut?)")
    return float(v)


def _read_year(rows: list[tuple[Any, ...]], name: str, year: int) -> np.ndarray:
    """Check one year sheet; returns the (47, len(HEADER)) values in Mt CO2."""
    where = f"{name}, sheet {year}"
    if len(rows) < 4 + len(SECTORS):
        raise IngestError(f"{where}: {len(rows)} rows, expected {4 + len(SECTORS)} (truncated?)")
    header = tuple(str(v).strip() if v is not None else "" for v in rows[0][1:1 + len(HEADER)])
    if header != HEADER:
        raise IngestError(f"{where}: the header must be {list(HEADER)}, found {list(header)}")
    units = {str(v).strip() for v in rows[1][1:1 + len(HEADER)]}
    if units != {UNIT}:
        raise IngestError(f"{where}: every column must be in {UNIT!r}, found units {sorted(units)}")
    if str(rows[3][0]).strip() != TOTAL_ROW:
        raise IngestError(f"{where}: row 4 must be {TOTAL_ROW!r}, found {rows[3][0]!r}")
    names = tuple(str(r[0]).strip() for r in rows[4:4 + len(SECTORS)])
    if names != SECTORS:
        i = next(k for k, (a, b) in enumerate(zip(names, SECTORS, strict=True)) if a != b)
        raise IngestError(f"{where}: row {i + 5} is {names[i]!r}, expected the sector {SECTORS[i]!r}")
    block = np.array([[_cell(v, f"{where}, row {i + 4}, column {HEADER[j]!r}")
                       for j, v in enumerate(r[1:1 + len(HEADER)])] for i, r in enumerate(rows[3:4 + len(SECTORS)])])
    if (block < 0).any():
        i, j = np.argwhere(block < 0)[0]
        raise IngestError(f"{where}: negative value {block[i, j]:g} in row {i + 4}, column {HEADER[j]!r}")
    total_row, sectors = block[0], block[1:]
    zero = [HEADER.index(c) for c in ZERO_COLUMNS]
    if sectors[:, zero].any():
        raise IngestError(f"{where}: the Scope 2 / Other Energy columns are not 0; this reader takes Scope 1 only "
                          f"and they would double count")
    parts = sectors[:, :len(FUELS)].sum(axis=1) + sectors[:, HEADER.index("Process")]
    scope1 = sectors[:, HEADER.index("Scope 1 Total")]
    bad = np.abs(parts - scope1) > 1e-6 * np.abs(scope1) + 1e-6
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise IngestError(f"{where}: {SECTORS[i]}: the fuels and Process add up to {parts[i]:g} but Scope 1 Total "
                          f"is {scope1[i]:g} Mt")
    col_bad = np.abs(sectors.sum(axis=0) - total_row) > 1e-6 * np.abs(total_row) + 1e-3
    if col_bad.any():
        j = int(np.flatnonzero(col_bad)[0])
        raise IngestError(f"{where}: the 47 sectors add up to {sectors[:, j].sum():g} in {HEADER[j]!r} but "
                          f"{TOTAL_ROW} is {total_row[j]:g} Mt (a sector row missing or altered?)")
    total = float(total_row[HEADER.index("Scope 1 Total")])
    if not MIN_TOTAL_MT <= total <= MAX_TOTAL_MT:
        raise IngestError(f"{where}: China's total is {total:g}, outside {MIN_TOTAL_MT:g}..{MAX_TOTAL_MT:g} Mt CO2: "
                          f"wrong units?")
    return sectors


def read_ceads_china(path: Path) -> pd.DataFrame:
    """Read and check every year sheet -> ``year, ipcc_sector, fuel, co2_mt`` (Mt CO2 yr-1, 18 fuels incl. Process)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"CEADs file not found: {path}")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise IngestError(f"{path.name} is not a readable .xlsx workbook: {e}") from e
    try:
        years = sorted(int(s) for s in book.sheetnames if _YEAR_RE.match(s))
        if not years:
            raise IngestError(f"{path.name}: no year sheets (1997 .. 2019); sheets: {book.sheetnames}")
        fuels = [*FUELS, "Process"]
        cols = [HEADER.index(f) for f in fuels]
        frames = []
        for y in years:
            sectors = _read_year(list(book[str(y)].iter_rows(values_only=True)), path.name, y)
            frames.append(pd.DataFrame({"year": y, "ipcc_sector": np.repeat(SECTORS, len(fuels)),
                                        "fuel": np.tile(fuels, len(SECTORS)),
                                        "co2_mt": sectors[:, cols].reshape(-1)}))
    finally:
        book.close()
    out = pd.concat(frames, ignore_index=True)
    out["year"] = out["year"].astype("int32")
    out.attrs.update({"units": "Mt CO2 yr-1", "inventory": "ceads", "source_file": path.name,
                      "years": f"{years[0]}-{years[-1]}"})
    return out


def ceads_sector_totals(df: pd.DataFrame) -> pd.DataFrame:
    """``year, sector, co2_mt`` on carbonmap's sectors (the mapping table of the module docstring)."""
    need = {"year", "ipcc_sector", "fuel", "co2_mt"}
    if not need <= set(df.columns):
        raise IngestError(f"CEADs table lacks {sorted(need - set(df.columns))}")
    pairs = df[["ipcc_sector", "fuel"]].drop_duplicates()
    lookup = {(s, f): carbonmap_sector(s, f) for s, f in pairs.itertuples(index=False)}
    sector = [lookup[(s, f)] for s, f in zip(df["ipcc_sector"], df["fuel"], strict=True)]
    out = (df.assign(sector=sector).groupby(["year", "sector"], as_index=False)["co2_mt"].sum())
    out["sector"] = pd.Categorical(out["sector"], categories=CARBONMAP_SECTORS, ordered=True)
    out = out.sort_values(["year", "sector"]).reset_index(drop=True)
    out["sector"] = out["sector"].astype(str)
    out.attrs.update({"units": "Mt CO2 yr-1", "inventory": "ceads"})
    return out


def ceads_canonical(totals: pd.DataFrame) -> pd.DataFrame:
    """Sector totals -> canonical yearly table (iso3 CHN, ``co2_<sector>`` variables, MtCO2)."""
    df = pd.DataFrame({"iso3": "CHN", "region": "", "period": pd.to_datetime(totals["year"].astype(str) + "-01-01"),
                       "frequency": "yearly", "variable": totals["sector"].map(CANONICAL_VARIABLE),
                       "value": totals["co2_mt"], "unit": "MtCO2", "source": SOURCE})
    return finish(df, "CEADs sector totals", source=SOURCE, max_value={v: MAX_TOTAL_MT for v in CANONICAL_VARIABLE.values()})


class CEADsAdapter(BaseAdapter[pd.DataFrame]):
    """The CEADs workbook -> ``year, ipcc_sector, fuel, co2_mt`` (Parquet)."""

    info = INFO

    def __init__(self, url: str = URL, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.url = url

    def download(self, start: date, end: date) -> list[Path]:
        """The workbook (one file for 1997-2019; cached, retried, sha256 sidecar)."""
        from ingest.download import fetch

        return [fetch(self.url, source=self.info.name, settings=self.settings, filename=FILE)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError(f"CEADs reads exactly one workbook, got {len(paths)}")
        return read_ceads_china(paths[0])

    def validate(self, data: pd.DataFrame) -> None:
        need = {"year", "ipcc_sector", "fuel", "co2_mt"}
        if not need <= set(data.columns):
            raise IngestError(f"CEADs table lacks {sorted(need - set(data.columns))}")
        if data.duplicated(["year", "ipcc_sector", "fuel"]).any():
            raise IngestError("CEADs table has duplicate (year, ipcc_sector, fuel) rows")
        if (data["co2_mt"] < 0).any() or not np.isfinite(data["co2_mt"].to_numpy(np.float64)).all():
            raise IngestError("CEADs table has negative or non-finite co2_mt")
