"""Shared reader of Natural Earth point layers (GeoJSON FeatureCollections of Points)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import IngestError


def read_point_features(path: Path, properties: dict[str, str], *, required: tuple[str, ...] = ("name",)
                        ) -> pd.DataFrame:
    """``lon, lat`` (degrees, EPSG:4326) plus the renamed ``properties`` ({source key: column}).

    Raises IngestError when the file is not GeoJSON, a feature is not a Point, coordinates are off
    the globe, or a ``required`` property (by source key) is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"GeoJSON file not found: {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise IngestError(f"{path.name} is not valid GeoJSON: {e}") from e
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise IngestError(f"{path.name}: expected a GeoJSON FeatureCollection")
    crs = (doc.get("crs") or {}).get("properties", {}).get("name", "")
    if crs and not any(k in crs for k in ("4326", "CRS84")):
        raise IngestError(f"{path.name}: CRS {crs!r} is not EPSG:4326 / CRS84")
    rows = []
    for i, f in enumerate(doc.get("features", [])):
        geom = f.get("geometry") or {}
        if geom.get("type") != "Point":
            raise IngestError(f"{path.name}: feature {i} is a {geom.get('type')!r}, expected a Point")
        props = f.get("properties") or {}
        for k in required:
            if k not in props:
                raise IngestError(f"{path.name}: feature {i} lacks the property {k!r}")
        lon, lat = geom["coordinates"][:2]
        rows.append({"lon": lon, "lat": lat, **{col: props.get(key) for key, col in properties.items()}})
    df = pd.DataFrame(rows, columns=["lon", "lat", *properties.values()])
    df["lon"] = df["lon"].astype(np.float64)
    df["lat"] = df["lat"].astype(np.float64)
    if not (df["lon"].between(-180, 180).all() and df["lat"].between(-90, 90).all()):
        raise IngestError(f"{path.name}: coordinates outside lon -180..180 / lat -90..90 (not EPSG:4326?)")
    return df
