"""EDGAR v7.0 national **total GHG** (CO2eq) by country and 5 aggregated sectors, 1970-2021 (xlsx).

What the file really is: ``EDGARv7.0_GHG_AR4_AR5.xlsx`` (JRC's ``v70_FT2021_GHG_AR4_AR5`` release, copied
by Open-Earth-Foundation/OpenClimate@822037b7:harmonize/data/raw/EDGARv7.0/) holds **total greenhouse
gases** - fossil CO2 + CH4 + N2O + F-gases - in **Mt CO2eq** (GWP-100 of IPCC AR4 or AR5), by country
and **5 aggregated sectors**.  It has **no IPCC codes and no split by gas**, so fossil CO2 alone (and
e.g. 1.A.3.a domestic aviation) cannot be taken from it.  Sheets::

    Total GHG by sector country AR4 / AR5   Sector, EDGAR Country Code, Country, 1970 .. 2021
    Total GHG by country AR4 / AR5          EDGAR Country Code, Country, 1970 .. 2021  (AR4 adds EU27, GLOBAL TOTAL)
    Sector definition

Three title lines (source, "expressed in Mton CO2eq ... GWP-100 AR4|AR5", gases) and a blank line come
before the header.  The sectors (sheet "Sector definition"): Power Industry (power and heat plants,
public and autoproducers), Other industrial combustion (manufacturing and fuel production), Buildings
(small-scale non-industrial stationary combustion), Transport (road, rail, ship and aviation; domestic),
Other sectors (industrial processes, agriculture, waste; also where non-combustion CH4 and N2O sit).
``AIR``/``SEA`` are international aviation/shipping (mapped to ``XIA``/``XIS``); ``SCG`` (Serbia and
Montenegro) and ``ANT`` (Netherlands Antilles) are EDGAR's old codes, kept.  Empty cells (a sector a
country does not have) are dropped, not zeroed.

:func:`read_edgar_v7` -> ``iso3, country, sector, year, ghg_mt_co2eq``; it checks the title line's unit
and GWP, the sector names, the years, ranges, duplicates, and that the sectors of every country add up
to the country-total sheet (they do to 1e-12).  :func:`edgar_v7_sector_totals` maps the sectors to
carbonmap's (``iso3, year, sector, ghg_mt_co2eq``, countries only, XIA/XIS left out):

=============================  ====================  ==============================================
EDGAR v7 sector                carbonmap sector      note
=============================  ====================  ==============================================
Power Industry                 power                 IPCC 1A1a; GHG ~ CO2 (CH4/N2O < 1 %)
Other industrial combustion    industry              1A2 + 1A1b/c (refineries, fuel production)
Buildings                      residential           1A4 residential, commercial, agri/fishing fuel
Transport                      ground_transport      1A3 domestic transport x (1 - 5 %)
Transport                      domestic_aviation     constant 5 % of Transport: the project's proxy
                                                     (``ingest.sector_map.DOMESTIC_AVIATION_SHARE_OF_TRANSPORT``),
                                                     **not** EDGAR's 1A3a
Other sectors                  other                 process CO2 (cement etc.) **mixed with**
                                                     agriculture/waste/fugitive CH4, N2O, F-gases
AIR / SEA (pseudo-countries)   (left out)            international bunkers: GCB's XIA / XIS
=============================  ====================  ==============================================

So the shares are of GHG, not of fossil CO2: the four combustion sectors are nearly pure CO2 and agree
with GCB's fossil CO2 minus cement, flaring and other (2021, GCB 2025: world incl. bunkers 34,113 vs
34,361 Mt, -0.7 %; China 10,687 vs 10,291 Mt, +3.8 %; USA 4,555 vs 4,780 Mt, -4.7 %), but "Other
sectors" is dominated by agriculture in many countries (Brazil 2021: 940 of 1,375 Mt CO2eq) and cannot
stand in for industrial process CO2.  :func:`combustion_vs_gcb` makes that comparison.

Publication: EDGAR v7.0 appeared in September 2022 covering to 2021: :data:`LAG_DAYS` = 270 days after
the year's end (registered for ``edgar_v7``).  Licence: CC BY 4.0; cite EDGAR v7.0 and Crippa et al.
(2021, 2022).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.sector_map import DOMESTIC_AVIATION_SHARE_OF_TRANSPORT

SOURCE = "edgar_v7"
LAG_DAYS = register_lag(SOURCE, 270)
COMMIT = "822037b7"
"""Open-Earth-Foundation/OpenClimate commit the shipped file was taken from (abbreviated)."""
FILE = "EDGARv7.0_GHG_AR4_AR5.xlsx"
URL = f"https://raw.githubusercontent.com/Open-Earth-Foundation/OpenClimate/{COMMIT}/harmonize/data/raw/EDGARv7.0/{FILE}"
SHIPPED = f"statistical/{FILE}"
GWPS = ("AR4", "AR5")
SECTOR_SHEET = "Total GHG by sector country {gwp}"
TOTAL_SHEET = "Total GHG by country {gwp}"
ID_COLUMNS = ("Sector", "EDGAR Country Code", "Country")
SECTORS_V7 = ("Power Industry", "Other industrial combustion", "Buildings", "Transport", "Other sectors")
FIRST_YEAR = 1970
BUNKERS = {"AIR": "XIA", "SEA": "XIS"}
MAX_MT = 20_000.0
"""No country-sector emits more than this, Mt CO2eq yr-1 (China's power sector ~5,600); more = kt."""
_DA = DOMESTIC_AVIATION_SHARE_OF_TRANSPORT
SECTOR_MAP: dict[str, dict[str, float]] = {
    "Power Industry": {"power": 1.0},
    "Other industrial combustion": {"industry": 1.0},
    "Buildings": {"residential": 1.0},
    "Transport": {"ground_transport": 1.0 - _DA, "domestic_aviation": _DA},
    "Other sectors": {"other": 1.0},
}
"""EDGAR v7 sector -> {carbonmap sector: fraction} (the table in the module docstring)."""
CARBONMAP_SECTORS = ("power", "industry", "ground_transport", "residential", "domestic_aviation", "other")

INFO = SourceInfo(
    name=SOURCE,
    title="EDGAR v7.0 total GHG (Mt CO2eq, GWP-100 AR4/AR5) by country and 5 sectors, 1970-2021",
    kind="statistical",
    licence="CC-BY-4.0 (EC-JRC EDGAR v7.0; cite Crippa et al. 2021, 2022)",
    url="https://edgar.jrc.ec.europa.eu/dataset_ghg70",
    shipped=(SHIPPED, "statistical/EDGARv7.0_README.md"),
    note="total GHG, not fossil CO2: no gas split and no IPCC codes in this file",
)


def _sheet(book: Any, name: str, path: Path) -> list[tuple[Any, ...]]:
    if name not in book.sheetnames:
        raise IngestError(f"{path.name}: no sheet {name!r}; sheets: {book.sheetnames}")
    return list(book[name].iter_rows(values_only=True))


def _header(rows: list[tuple[Any, ...]], ids: tuple[str, ...], where: str, gwp: str) -> tuple[int, list[int]]:
    """Index of the header row and its years; checks the title lines' unit and GWP."""
    head = next((i for i, r in enumerate(rows[:20]) if tuple(r[:len(ids)]) == ids), None)
    if head is None:
        raise IngestError(f"{where}: no header row starting with {list(ids)} in the first 20 rows")
    title = " ".join(str(c) for r in rows[:head] for c in r if c is not None)
    if "Mton CO2eq" not in title or f"GWP-100 {gwp}" not in title:
        raise IngestError(f"{where}: the title lines must say 'Mton CO2eq' and 'GWP-100 {gwp}'; found {title[:200]!r}")
    years = list(rows[head][len(ids):])
    while years and years[-1] is None:
        years.pop()
    if not years or not all(isinstance(y, int) for y in years) or years != list(range(FIRST_YEAR, FIRST_YEAR + len(years))):
        raise IngestError(f"{where}: year columns must be {FIRST_YEAR}, {FIRST_YEAR + 1}, ... without gaps; "
                          f"found {years[:3]}..{years[-3:]}")
    return head, [int(y) for y in years]


def _values(rows: list[tuple[Any, ...]], head: int, nid: int, years: list[int], where: str) -> pd.DataFrame:
    body = [r for r in rows[head + 1:] if any(v is not None for v in r[:nid])]
    if not body:
        raise IngestError(f"{where}: no data rows")
    ids = pd.DataFrame([list(r[:nid]) for r in body])
    vals = pd.DataFrame([list(r[nid:nid + len(years)]) + [None] * (len(years) - len(r[nid:nid + len(years)]))
                         for r in body], columns=years)
    num = vals.apply(pd.to_numeric, errors="coerce")
    bad = num.isna() & vals.notna()
    if bad.any().any():
        i = int(np.flatnonzero(bad.any(axis=1).to_numpy())[0])
        raise IngestError(f"{where}: non-numeric value in row {head + i + 2} ({list(ids.iloc[i])})")
    return pd.concat([ids, num], axis=1)


def read_edgar_v7(path: Path, gwp: str = "AR5") -> pd.DataFrame:
    """The country x sector sheet (GWP ``AR4`` or ``AR5``) -> ``iso3, country, sector, year, ghg_mt_co2eq``."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    if gwp not in GWPS:
        raise IngestError(f"gwp must be one of {GWPS}, not {gwp!r}")
    if not path.is_file():
        raise IngestError(f"EDGAR v7 file not found: {path}")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise IngestError(f"{path.name} is not a readable .xlsx workbook: {e}") from e
    try:
        srows = _sheet(book, SECTOR_SHEET.format(gwp=gwp), path)
        trows = _sheet(book, TOTAL_SHEET.format(gwp=gwp), path)
    finally:
        book.close()
    swhere, twhere = f"{path.name}, {SECTOR_SHEET.format(gwp=gwp)}", f"{path.name}, {TOTAL_SHEET.format(gwp=gwp)}"
    shead, years = _header(srows, ID_COLUMNS, swhere, gwp)
    thead, tyears = _header(trows, ID_COLUMNS[1:], twhere, gwp)
    if tyears != years:
        raise IngestError(f"{path.name}: the sector and total sheets cover different years")
    wide = _values(srows, shead, len(ID_COLUMNS), years, swhere)
    wide.columns = ["sector", "code", "country", *years]
    unknown = sorted(set(wide["sector"].astype(str)) - set(SECTORS_V7))
    if unknown:
        raise IngestError(f"{swhere}: unknown sector(s) {unknown}; expected {list(SECTORS_V7)}")
    if wide["code"].isna().any():
        raise IngestError(f"{swhere}: a row has no EDGAR Country Code")
    wide["code"] = wide["code"].astype(str).str.strip()
    dup = wide.duplicated(["code", "sector"])
    if dup.any():
        r = wide[dup].iloc[0]
        raise IngestError(f"{swhere}: duplicate row for ({r['code']}, {r['sector']})")
    v = wide[years]
    if (v < 0).any().any() or (v > MAX_MT).any().any():
        r = wide[((v < 0) | (v > MAX_MT)).any(axis=1)].iloc[0]
        raise IngestError(f"{swhere}: {r['code']} {r['sector']} has values outside 0..{MAX_MT:g} Mt CO2eq: "
                          f"wrong units (kt?)")
    totals = _values(trows, thead, 2, years, twhere)
    totals.columns = ["code", "country", *years]
    totals = totals.assign(code=totals["code"].astype(str).str.strip()).set_index("code")
    sums = wide.groupby("code")[years].sum(min_count=1)
    missing = sorted(set(sums.index) - set(totals.index))
    if missing:
        raise IngestError(f"{twhere}: no total for {missing[:5]}; the sheets do not match")
    ref = totals.loc[sums.index, years]
    off = ((sums.fillna(0.0) - ref.fillna(0.0)).abs() > 1e-6 * ref.abs().fillna(0.0) + 1e-6)
    if off.any().any():
        code = str(off.any(axis=1)[off.any(axis=1)].index[0])
        year = int(off.loc[code][off.loc[code]].index[0])
        raise IngestError(f"{path.name}: the sectors of {code} add up to {sums.loc[code, year]:g} in {year} but the "
                          f"country total is {ref.loc[code, year]:g} Mt CO2eq (a sector row missing or altered?)")
    long = wide.melt(id_vars=["sector", "code", "country"], var_name="year", value_name="ghg_mt_co2eq").dropna(
        subset=["ghg_mt_co2eq"])
    long["iso3"] = long["code"].map(lambda c: BUNKERS.get(c, c))
    long["year"] = long["year"].astype("int32")
    long["country"] = long["country"].astype(str)
    out = long[["iso3", "country", "sector", "year", "ghg_mt_co2eq"]].sort_values(
        ["iso3", "sector", "year"]).reset_index(drop=True)
    out.attrs.update({"units": "Mt CO2eq yr-1 (total GHG)", "gwp": f"GWP-100 {gwp}", "inventory": SOURCE,
                      "source_file": path.name, "years": f"{years[0]}-{years[-1]}"})
    return out


def edgar_v7_sector_totals(df: pd.DataFrame) -> pd.DataFrame:
    """``iso3, year, sector, ghg_mt_co2eq`` on carbonmap's sectors (:data:`SECTOR_MAP`), bunkers left out."""
    need = {"iso3", "sector", "year", "ghg_mt_co2eq"}
    if not need <= set(df.columns):
        raise IngestError(f"EDGAR v7 table lacks {sorted(need - set(df.columns))}")
    d = df[~df["iso3"].isin(list(BUNKERS.values()))]
    parts = []
    for sector, targets in SECTOR_MAP.items():
        rows = d[d["sector"] == sector]
        for target, frac in targets.items():
            parts.append(rows.assign(sector=target, ghg_mt_co2eq=rows["ghg_mt_co2eq"] * frac))
    out = pd.concat(parts, ignore_index=True).groupby(["iso3", "year", "sector"], as_index=False)["ghg_mt_co2eq"].sum()
    out["sector"] = pd.Categorical(out["sector"], categories=CARBONMAP_SECTORS, ordered=True)
    out = out.sort_values(["iso3", "year", "sector"]).reset_index(drop=True)
    out["sector"] = out["sector"].astype(str)
    out.attrs.update({"units": "Mt CO2eq yr-1 (total GHG)", "inventory": SOURCE,
                      "domestic_aviation": f"constant {_DA:.0%} of Transport (proxy)"})
    return out


def sector_shares(totals: pd.DataFrame, year: int, iso3: Sequence[str] = ()) -> pd.DataFrame:
    """Wide table of each country's sector shares (fractions of its total GHG) in ``year``."""
    t = totals[totals["year"] == year]
    if iso3:
        t = t[t["iso3"].isin(list(iso3))]
    w = t.pivot_table(index="iso3", columns="sector", values="ghg_mt_co2eq", aggfunc="sum").reindex(
        columns=list(CARBONMAP_SECTORS)).fillna(0.0)
    return w.div(w.sum(axis=1), axis=0)


def combustion_vs_gcb(df: pd.DataFrame, gcb: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per iso3 (and ``WLD`` = all rows incl. bunkers): the 4 combustion sectors' GHG against GCB's (``ingest.gcb``)
    fossil CO2 minus cement, flaring and other in ``year``; columns ``edgar, gcb, rel_diff``."""
    comb = df[(df["year"] == year) & (df["sector"] != "Other sectors")].groupby("iso3")["ghg_mt_co2eq"].sum()
    comb["WLD"] = comb.sum()
    g = gcb[gcb["year"] == year].set_index("iso3").fillna({"cement": 0.0, "flaring": 0.0, "other": 0.0})
    ref = g["total"] - g["cement"] - g["flaring"] - g["other"]
    common = comb.index.intersection(ref.dropna().index)
    out = pd.DataFrame({"edgar": comb[common], "gcb": ref[common]})
    out["rel_diff"] = out["edgar"] / out["gcb"] - 1.0
    return out


class EDGARv7Adapter(BaseAdapter[pd.DataFrame]):
    """The EDGAR v7.0 GHG workbook -> ``iso3, country, sector, year, ghg_mt_co2eq`` (Parquet)."""

    info = INFO

    def __init__(self, url: str = URL, gwp: str = "AR5", settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.url = url
        self.gwp = gwp

    def download(self, start: date, end: date) -> list[Path]:
        """The workbook (one file for 1970-2021; cached, retried, sha256 sidecar)."""
        from ingest.download import fetch

        return [fetch(self.url, source=self.info.name, settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError(f"EDGAR v7 reads exactly one workbook, got {len(paths)}")
        return read_edgar_v7(paths[0], gwp=self.gwp)

    def validate(self, data: pd.DataFrame) -> None:
        need = {"iso3", "sector", "year", "ghg_mt_co2eq"}
        if not need <= set(data.columns):
            raise IngestError(f"EDGAR v7 table lacks {sorted(need - set(data.columns))}")
        if data.duplicated(["iso3", "sector", "year"]).any():
            raise IngestError("EDGAR v7 table has duplicate (iso3, sector, year) rows")
        if (data["ghg_mt_co2eq"] < 0).any():
            raise IngestError("EDGAR v7 table has negative emissions")
