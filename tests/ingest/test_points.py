"""Airports, ports and the city-lights picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.airports import AIRPORTS_FILE, read_airports
from ingest.base import IngestError
from ingest.boundaries import COUNTRIES_FILE, read_countries
from ingest.night_lights import LIGHTS_FILE, read_city_lights
from ingest.ports import PORTS_FILE, read_ports


@pytest.fixture(scope="module")
def countries(data_dir: Path):
    return read_countries(data_dir / COUNTRIES_FILE)


def test_airports(data_dir: Path, countries) -> None:
    a = read_airports(data_dir / AIRPORTS_FILE, countries)
    assert list(a.columns[:6]) == ["lon", "lat", "name", "iso3", "type", "scalerank"]
    assert len(a) == 891 and a["iso3"].notna().mean() > 0.99
    hea = a[a.iata_code == "LHR"]
    assert len(hea) == 1 and hea["iso3"].iloc[0] == "GBR"
    assert "major" in set(a["type"])


def test_ports(data_dir: Path, countries) -> None:
    p = read_ports(data_dir / PORTS_FILE, countries)
    assert len(p) == 1081 and p["iso3"].notna().mean() > 0.99
    rot = p[p.name == "Rotterdam"]
    assert len(rot) >= 1 and rot["iso3"].iloc[0] == "NLD"


def test_point_layer_bad_input(tmp_path: Path) -> None:
    f = tmp_path / "a.json"
    f.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
                 '{"name": "x", "type": "major", "scalerank": 2}, "geometry": {"type": "Point", '
                 '"coordinates": [500000, 4000000]}}]}')
    with pytest.raises(IngestError, match="coordinates outside lon"):
        read_airports(f)
    f.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x"}, '
                 '"geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}]}')
    with pytest.raises(IngestError, match="is a 'LineString', expected a Point"):
        read_ports(f)


def test_city_lights(data_dir: Path) -> None:
    da = read_city_lights(data_dir / LIGHTS_FILE)
    assert da.dims == ("lat", "lon") and da.shape == (1024, 2048) and da.dtype == np.uint8
    assert "NOT radiance" in da.attrs["comment"] and da.attrs["proxy"] == "true"
    # lit Western Europe versus the dark mid-Pacific
    europe = float(da.sel(lat=slice(53, 45), lon=slice(-2, 12)).mean())
    pacific = float(da.sel(lat=slice(10, -10), lon=slice(-160, -140)).mean())
    assert europe > 10 * max(pacific, 0.1)


def test_city_lights_bad_input(tmp_path: Path) -> None:
    f = tmp_path / "x.jpg"
    f.write_bytes(b"not a jpeg")
    with pytest.raises(IngestError, match="not a readable image"):
        read_city_lights(f)
    from PIL import Image

    Image.new("L", (100, 100)).save(f)
    with pytest.raises(IngestError, match="is 100 x 100 pixels"):
        read_city_lights(f)
