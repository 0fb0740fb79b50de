"""Natural Earth 10m ports (points): ``lon, lat, name, iso3, scalerank, natlscale``.

``iso3`` is derived by point-in-polygon when countries are given; ports just off the 1:50m
coastline get the nearest country within :data:`NEAREST_MAX_DEG` degrees (see ``assign_iso3``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.boundaries import assign_iso3
from ingest.geojson_points import read_point_features

PORTS_FILE = "boundaries/ne_10m_ports.json"
NEAREST_MAX_DEG = 0.5
INFO = SourceInfo(name="ports", title="Natural Earth 1:10m ports", kind="boundaries",
                  licence="public domain (Natural Earth)", url="https://www.naturalearthdata.com",
                  shipped=(PORTS_FILE,))


def read_ports(path: Path, countries: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Ports with coordinates in degrees (EPSG:4326)."""
    df = read_point_features(path, {"name": "name", "scalerank": "scalerank", "natlscale": "natlscale"},
                             required=("name", "scalerank"))
    df["scalerank"] = pd.to_numeric(df["scalerank"], errors="coerce").astype("Int32")
    df["iso3"] = assign_iso3(df, countries, NEAREST_MAX_DEG) if countries is not None else None
    df["natlscale"] = pd.to_numeric(df["natlscale"], errors="coerce").astype(np.float64)
    return df[["lon", "lat", "name", "iso3", "scalerank", "natlscale"]]


class PortsAdapter(BaseAdapter[pd.DataFrame]):
    info = INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("ports take exactly one file")
        return read_ports(paths[0])
