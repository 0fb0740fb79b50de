"""CAIT / Climate Watch CO2 by country and sector (OWID's 2021 wide CSV).

Published layout: ``Country,Year,<Sector>,<Sector> (per capita),...`` in Mt CO2 yr-1, 1990-2018,
countries by *name*.  :func:`read_cait` returns the long table ``iso3, country, sector, year,
emissions`` (Mt CO2 yr-1) for countries (aggregates such as ``World`` are dropped); names are
mapped to ISO3 with the explicit table in :mod:`ingest.country_names`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.country_names import AGGREGATE_NAMES, name_to_iso3

SECTOR_COLUMNS = (
    "Electricity and heat", "Manufacturing and construction", "Industry", "Fugitive emissions",
    "Other fuel combustion", "Buildings", "Transport", "Aviation and shipping", "Land-use change and forestry",
    "Energy", "Total excluding LUCF", "Total including LUCF",
)
REQUIRED_SECTORS = ("Electricity and heat", "Manufacturing and construction", "Industry", "Fugitive emissions",
                    "Other fuel combustion", "Buildings", "Transport")

INFO = SourceInfo(
    name="cait",
    title="Climate Watch (CAIT) CO2 emissions by sector, via Our World in Data",
    kind="statistical",
    licence="CC-BY-4.0 (OWID); Climate Watch terms apply to the underlying data",
    url="https://www.climatewatchdata.org/ghg-emissions",
    shipped=("statistical/cait-co2-by-sector-2021.csv",),
)


def read_cait(path: Path) -> pd.DataFrame:
    """Read and validate the CAIT sector CSV; long format, Mt CO2 yr-1."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"CAIT file not found: {path}")
    try:
        raw = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    missing = [c for c in ("Country", "Year", *REQUIRED_SECTORS) if c not in raw.columns]
    if missing:
        raise IngestError(f"{path.name} lacks the CAIT column(s) {missing}")
    raw = raw[~raw["Country"].isin(AGGREGATE_NAMES)].copy()
    dup = raw.duplicated(["Country", "Year"], keep=False)
    if dup.any():
        r = raw[dup].iloc[0]
        raise IngestError(f"{path.name}: duplicate rows for ({r['Country']}, {r['Year']})")
    raw["iso3"] = [name_to_iso3(n, source=path.name) for n in raw["Country"]]
    cols = [c for c in SECTOR_COLUMNS if c in raw.columns]
    df = raw.melt(id_vars=["iso3", "Country", "Year"], value_vars=cols, var_name="sector", value_name="emissions")
    df = df.rename(columns={"Country": "country", "Year": "year"})
    df["emissions"] = pd.to_numeric(df["emissions"], errors="coerce")
    df["year"] = pd.to_numeric(df["year"], errors="coerce")
    if df["year"].isna().any():
        raise IngestError(f"{path.name}: a row has a missing or non-numeric Year")
    df["year"] = df["year"].astype("int32")
    df = df.dropna(subset=["emissions"]).sort_values(["iso3", "sector", "year"]).reset_index(drop=True)
    df.attrs.update({"units": "Mt CO2 yr-1", "inventory": "cait", "source_file": path.name})
    return df


class CAITAdapter(BaseAdapter[pd.DataFrame]):
    info = INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("CAIT takes exactly one CSV file")
        return read_cait(paths[0])
