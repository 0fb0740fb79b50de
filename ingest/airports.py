"""Natural Earth 10m airports (points): ``lon, lat, name, iso3, type, scalerank, iata_code, gps_code, location``.

NE airports carry no country code; ``iso3`` is derived by point-in-polygon against the countries of
:func:`ingest.boundaries.read_countries` when they are given (nearest country within 0.5 degree for
coastal airports just off the polygons; None beyond).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.boundaries import assign_iso3
from ingest.geojson_points import read_point_features

AIRPORTS_FILE = "boundaries/ne_10m_airports.json"
INFO = SourceInfo(name="airports", title="Natural Earth 1:10m airports", kind="boundaries",
                  licence="public domain (Natural Earth)", url="https://www.naturalearthdata.com",
                  shipped=(AIRPORTS_FILE,))


def read_airports(path: Path, countries: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Airports with coordinates in degrees (EPSG:4326); ``type`` is NE's (major, mid, small, military...)."""
    df = read_point_features(path, {"name": "name", "type": "type", "scalerank": "scalerank",
                                    "iata_code": "iata_code", "gps_code": "gps_code", "location": "location"},
                             required=("name", "type", "scalerank"))
    df["scalerank"] = pd.to_numeric(df["scalerank"], errors="coerce").astype("Int32")
    df["iso3"] = assign_iso3(df, countries) if countries is not None else None
    return df[["lon", "lat", "name", "iso3", "type", "scalerank", "iata_code", "gps_code", "location"]]


class AirportsAdapter(BaseAdapter[pd.DataFrame]):
    info = INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("airports take exactly one file")
        return read_airports(paths[0])
