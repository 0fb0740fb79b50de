"""EDGAR v5.0 (FT2018) fossil CO2 by country and 5 sectors, long CSV.

Published layout (openclimatedata/edgar-co2-emissions): ``Code,Name,Sector,Year,Emissions`` with
Emissions in Mt CO2 yr-1, 1970-2018.  :func:`read_edgar_v5` returns columns
``code, name, sector, year, emissions`` (Mt CO2 yr-1).  ``code`` is ISO3, or one of EDGAR's grouped
codes (:data:`EDGAR_GROUPS`), or ``AIR``/``SEA`` (international bunkers).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo

REQUIRED = ("Code", "Name", "Sector", "Year", "Emissions")
SECTORS_V5 = ("Power Industry", "Other industrial combustion", "Buildings", "Transport", "Other sectors")
EDGAR_GROUPS: dict[str, tuple[str, ...]] = {
    "FRA_MCO": ("FRA", "MCO"),
    "ITA_SMR_VAT": ("ITA", "SMR", "VAT"),
    "ISR_PSE": ("ISR", "PSE"),
    "ESP_AND": ("ESP", "AND"),
    "SDN_SSD": ("SDN", "SSD"),
    "CHE_LIE": ("CHE", "LIE"),
    "CSXX": ("SRB", "MNE", "KSV"),
}
"""EDGAR's grouped country codes -> member ISO3 codes (each member gets the group's shares)."""
BUNKER_CODES = ("AIR", "SEA")

INFO = SourceInfo(
    name="edgar",
    title="EDGAR v5.0 FT2018 fossil CO2 by country and sector",
    kind="statistical",
    licence="EDGAR terms of use (free, with attribution: EC-JRC/PBL EDGAR)",
    url="https://edgar.jrc.ec.europa.eu/overview.php?v=50_GHG",
    shipped=("statistical/edgar-v5.0-ft2018-co2-by-sector.csv",),
)


def read_edgar_v5(path: Path) -> pd.DataFrame:
    """Read and validate the EDGAR v5 country x sector CSV; Mt CO2 yr-1, long format."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"EDGAR file not found: {path}")
    try:
        raw = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise IngestError(f"{path.name} lacks the EDGAR column(s) {missing}; found {list(raw.columns)}")
    df = raw[list(REQUIRED)].rename(columns=str.lower).rename(columns={"emissions": "emissions"})
    df["emissions"] = pd.to_numeric(df["emissions"], errors="coerce")
    df["year"] = pd.to_numeric(df["year"], errors="coerce")
    if df["year"].isna().any():
        raise IngestError(f"{path.name}: a row has a missing or non-numeric Year")
    bad = df["emissions"].isna() & raw["Emissions"].notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise IngestError(f"{path.name}: non-numeric Emissions {raw['Emissions'].iloc[i]!r} in row {i + 2}")
    df["year"] = df["year"].astype("int32")
    unknown = sorted(set(df["sector"]) - set(SECTORS_V5))
    if unknown:
        raise IngestError(f"{path.name}: unknown EDGAR v5 sector(s) {unknown}; expected {list(SECTORS_V5)}")
    if (df["emissions"] < 0).any():
        r = df[df["emissions"] < 0].iloc[0]
        raise IngestError(f"{path.name}: negative emissions {r['emissions']} for {r['code']} {r['sector']} {r['year']}")
    dup = df.duplicated(["code", "sector", "year"], keep=False)
    if dup.any():
        r = df[dup].iloc[0]
        raise IngestError(f"{path.name}: duplicate rows for ({r['code']}, {r['sector']}, {r['year']})")
    df["code"] = df["code"].astype(str)
    df["name"] = df["name"].astype(str)
    df["sector"] = df["sector"].astype(str)
    df = df.sort_values(["code", "sector", "year"]).reset_index(drop=True)
    df.attrs.update({"units": "Mt CO2 yr-1", "inventory": "edgar_v5", "source_file": path.name})
    return df


class EDGARAdapter(BaseAdapter[pd.DataFrame]):
    info = INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("EDGAR v5 takes exactly one CSV file")
        return read_edgar_v5(paths[0])
