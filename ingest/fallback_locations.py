"""Explicit locations for inventory entities that have no boundary polygon (e.g. GCB's BES, TUV).

CSV columns: ``iso3, name, lon, lat, note`` (degrees, EPSG:4326).  Used only as the last
downscaling fallback, so that no country's emissions are lost.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingest.base import IngestError, SourceInfo

FILE = "boundaries/fallback_locations.csv"
INFO = SourceInfo(name="fallback_locations", title="carbonmap fallback locations (capitals of entities "
                  "without a Natural Earth polygon)", kind="boundaries", licence="CC0",
                  url="https://github.com/carbonmap", shipped=(FILE,),
                  note="approximate capital coordinates, maintained by hand")


def read_fallback_locations(path: Path) -> pd.DataFrame:
    """Rows ``iso3, name, lon, lat``; refuses missing columns, bad coordinates and duplicate codes."""
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise IngestError(f"cannot read fallback locations {path}: {exc}") from exc
    missing = {"iso3", "name", "lon", "lat"} - set(df.columns)
    if missing:
        raise IngestError(f"{Path(path).name} lacks the columns {sorted(missing)}")
    lon = pd.to_numeric(df["lon"], errors="coerce")
    lat = pd.to_numeric(df["lat"], errors="coerce")
    bad = ~(lon.between(-180, 180) & lat.between(-90, 90))
    if bad.any():
        raise IngestError(f"{Path(path).name}: coordinates out of range for {df.loc[bad, 'iso3'].iloc[0]!r}")
    if df["iso3"].duplicated().any():
        raise IngestError(f"{Path(path).name}: {df.loc[df['iso3'].duplicated(), 'iso3'].iloc[0]!r} appears twice")
    return pd.DataFrame({"iso3": df["iso3"].astype(str), "name": df["name"].astype(str), "lon": lon, "lat": lat})
