"""EU ETS installations with verified emissions (EU Transaction Log, cedricr/eutl export) -> facility table.

Shipped: ``point_sources/facility-emissions/eu_eutl_installations_verified_emissions_2005-2022.csv.gz``,
the per-country ``export/installations-XX.csv`` files of cedricr/eutl@5522fbed concatenated and cut to
the columns used (the per-country files, which :class:`EutlAdapter` downloads, have more columns; both
read the same).  One row per installation or aircraft operator, ``VerifiedEmissions_YYYY`` in tCO2e
(``Excluded`` / ``Not Reported`` / blank = no value).

**Coordinates are rare and often wrong.** Only 2,191 of 17,957 accounts carry a non-(0, 0) position,
worth about 19.5 % of 2022 verified emissions (265 of 1,360 Mt).  Many of those are swapped (lat,
lon), in another projection or otherwise off (all Lithuanian ones, French ones near lat 20-26).
:func:`read_eutl` keeps only installations with a position, and sets ``located`` True only where the
point falls in (or within 0.1 degree of) the stated country on the shipped Natural Earth 1:50m
polygons; the others keep their raw coordinates with ``located`` False.  Aircraft operators (activity
10) have no place and are dropped.

Sector from the main activity code (Annex I of Directive 2003/87/EC; codes 1-9 phase 1-2, 20-45 phase
3+): :data:`ACTIVITIES`.  Combustion (1, 20: "combustion of fuels") covers power and heat plants but
also industrial boilers and CHP; it is mapped to ``power`` / ``combustion`` (a caveat: the EUTL does not
tell them apart).  ``co2_basis`` is ``co2e``: verified emissions include the N2O of nitric/adipic
acid and the PFCs of aluminium.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ingest.base import BaseAdapter, IngestError
from ingest.facility_emissions import EUTL_URL, INFO, finish_facilities, need, number, read_table

EUTL_COUNTRIES = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE",
                  "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK", "XI")
ISO2_TO_ISO3: dict[str, str] = {
    "AT": "AUT", "BE": "BEL", "BG": "BGR", "CY": "CYP", "CZ": "CZE", "DE": "DEU", "DK": "DNK", "EE": "EST",
    "ES": "ESP", "FI": "FIN", "FR": "FRA", "GB": "GBR", "GR": "GRC", "HR": "HRV", "HU": "HUN", "IE": "IRL",
    "IS": "ISL", "IT": "ITA", "LI": "LIE", "LT": "LTU", "LU": "LUX", "LV": "LVA", "MT": "MLT", "NL": "NLD",
    "NO": "NOR", "PL": "POL", "PT": "PRT", "RO": "ROU", "SE": "SWE", "SI": "SVN", "SK": "SVK",
    "XI": "GBR",  # Northern Ireland (its own EUTL registry after Brexit)
}
ACTIVITIES: dict[int, tuple[str, str]] = {
    1: ("power", "combustion"), 20: ("power", "combustion"),
    2: ("industry", "refineries"), 21: ("industry", "refineries"),
    3: ("industry", "coke"), 22: ("industry", "coke"),
    4: ("industry", "steel"), 23: ("industry", "steel"), 5: ("industry", "steel"), 24: ("industry", "steel"),
    25: ("industry", "steel"),
    6: ("industry", "cement"), 29: ("industry", "cement"), 30: ("industry", "lime"),
    7: ("industry", "glass"), 31: ("industry", "glass"),
    8: ("industry", "minerals_other"), 32: ("industry", "minerals_other"), 33: ("industry", "minerals_other"),
    34: ("industry", "minerals_other"),
    9: ("industry", "paper"), 35: ("industry", "paper"), 36: ("industry", "paper"),
    26: ("industry", "non_ferrous"), 27: ("industry", "non_ferrous"), 28: ("industry", "non_ferrous"),
    **{c: ("industry", "chemicals") for c in range(37, 45)},
    45: ("other", "ccs"), 99: ("other", "opt_in"),
}
"""EUTL ``MainActivityTypeCode`` -> (sector, subsector); 10 (aircraft operators) is dropped."""
AIRCRAFT = 10
COUNTRY_TOLERANCE_DEG = 0.1


def _located(df: pd.DataFrame, countries: gpd.GeoDataFrame | Path) -> pd.Series:
    """True where (lon, lat) lies in the stated country (nearest polygon within the tolerance)."""
    from ingest.boundaries import assign_iso3, read_countries

    if not isinstance(countries, gpd.GeoDataFrame):
        countries = read_countries(Path(countries))
    found = assign_iso3(df[["lon", "lat"]], countries, nearest_max_deg=COUNTRY_TOLERANCE_DEG)
    return pd.Series(found.to_numpy() == df["iso3"].to_numpy(), index=df.index)


def read_eutl(paths: Sequence[Path], countries: gpd.GeoDataFrame | Path) -> pd.DataFrame:
    """EUTL installation files (the shipped concatenation or per-country exports) -> facility table, tCO2e/yr.

    Keeps installations with a position (not blank, not (0, 0)); ``located`` says whether it falls in
    the stated country (``countries``: NE polygons with ``iso3``, or the path of such a file, e.g. the shipped
    1:50m :data:`ingest.boundaries.COUNTRIES_FILE` under the caller's data dir; read only when needed).
    """
    frames = []
    for p in paths:
        p = Path(p)
        raw = read_table(p, "EUTL")
        need(raw, ("id", "InstallationNameOrAircraftOperatorCode", "Latitude", "Longitude", "Country",
                   "MainActivityTypeCode"), p.name)
        frames.append(raw.assign(_file=p.name))
    raw = pd.concat(frames, ignore_index=True)
    name = ", ".join(sorted(set(raw["_file"])))[:200]
    years = {c: int(m.group(1)) for c in raw.columns if (m := re.fullmatch(r"VerifiedEmissions_(\d{4})", c))}
    if not years:
        raise IngestError(f"{name} has no VerifiedEmissions_YYYY columns")
    code = number(raw["MainActivityTypeCode"], "MainActivityTypeCode", name)
    unknown = sorted(set(code.dropna().astype(int)) - set(ACTIVITIES) - {AIRCRAFT})
    if unknown:
        raise IngestError(f"{name}: unknown EU ETS activity code(s) {unknown}")
    lat, lon = number(raw["Latitude"], "Latitude", name), number(raw["Longitude"], "Longitude", name)
    keep = (code != AIRCRAFT) & lat.notna() & lon.notna() & ~((lat == 0) & (lon == 0))
    if not keep.any():
        raise IngestError(f"{name}: no installation has coordinates")
    bad_iso = sorted(set(raw.loc[keep, "Country"].dropna()) - set(ISO2_TO_ISO3))
    if bad_iso:
        raise IngestError(f"{name}: unknown country code(s) {bad_iso}")
    base = pd.DataFrame({"facility_id": "EU-ETS:" + raw["id"].astype(str),
                         "name": raw["InstallationNameOrAircraftOperatorCode"],
                         "iso3": raw["Country"].map(ISO2_TO_ISO3), "lon": lon, "lat": lat,
                         "sector": code.map(lambda c: ACTIVITIES.get(int(c), ("other", "other"))[0]
                                            if pd.notna(c) else None),
                         "subsector": code.map(lambda c: ACTIVITIES.get(int(c), ("other", "other"))[1]
                                               if pd.notna(c) else None)})[keep]
    if base["sector"].isna().any():
        raise IngestError(f"{name}: installations without a MainActivityTypeCode")
    if ((base["lon"].abs() > 180) | (base["lat"].abs() > 90)).any():  # swapped beyond repair: keep, unplaced
        out_of_range = (base["lon"].abs() > 180) | (base["lat"].abs() > 90)
        base.loc[out_of_range, ["lon", "lat"]] = float("nan")
    base["located"] = False
    placeable = base["lon"].notna()
    base.loc[placeable, "located"] = _located(base[placeable], countries)
    vals = raw.loc[keep, list(years)].apply(lambda s: pd.to_numeric(s, errors="coerce"))
    cells = raw.loc[keep, list(years)]
    text = cells.apply(lambda s: s.astype("string").str.strip())
    odd = cells.notna() & ~text.isin(["", "NA", "Excluded", "Not Reported", "Not Calculated"]) & vals.isna()
    if odd.to_numpy().any():
        raise IngestError(f"{name}: non-numeric verified emissions {text[odd].stack().iloc[0]!r}")
    long = vals.rename(columns=years).stack().rename("co2_t").reset_index(level=1).rename(columns={"level_1": "year"})
    df = base.join(long, how="inner").assign(co2_basis="co2e")
    out = finish_facilities(df, name, "eu_ets")
    out.attrs["share_note"] = "installations with a position only (~19.5% of 2022 verified emissions)"
    return out


class EutlAdapter(BaseAdapter):
    """EU ETS installations only (the per-country exports of cedricr/eutl at a pinned commit)."""

    info = INFO
    url: str = EUTL_URL

    def download(self, start: date, end: date) -> list[Path]:
        from ingest.download import fetch

        return [fetch(self.url.format(cc=cc), source=self.info.name, settings=self.settings) for cc in EUTL_COUNTRIES]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        from ingest.boundaries import COUNTRIES_FILE

        return read_eutl(paths, self.settings.data_dir / COUNTRIES_FILE)
