from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from carbonmap.settings import get_settings
from ingest.base import Adapter, IngestError
from ingest.canonical import read_parquet_provenance, write_parquet_atomic, write_zarr_atomic
from ingest.registry import adapter, list_sources, sources


def test_list_sources(data_dir: Path) -> None:
    rows = {r["name"]: r for r in list_sources(get_settings().data_dir)}
    assert {"gcb", "edgar", "cait", "gpw", "gppd", "jrc_ppdb", "natural_earth", "city_lights"} <= set(rows)
    fixture_only = {n for n, r in rows.items() if not r["ships_in_data"]}
    # fixture-only sources (no real file in data/) are allowed when the listing says so
    assert fixture_only == {n for n, r in rows.items() if not sources()[n].shipped}
    assert all(r["real"] is False and "fixture" in str(r["note"]) for n, r in rows.items() if n in fixture_only)
    assert rows["city_lights"]["real"] is False and rows["gcb"]["licence"] == "CC-BY-4.0"
    assert not any(r["ships_in_data"] for r in list_sources(data_dir / "nowhere"))


def test_adapters_follow_protocol() -> None:
    for r in list_sources(get_settings().data_dir):
        assert isinstance(adapter(str(r["name"])), Adapter)
    with pytest.raises(IngestError, match="unknown ingest source 'nope'; known sources: admin1, airport_traffic, airports"):
        adapter("nope")


def test_no_download_is_a_clear_error() -> None:
    import datetime as dt

    with pytest.raises(IngestError, match="has no automatic download"):
        adapter("gpw").download(dt.date(2024, 1, 1), dt.date(2024, 1, 2))


def test_gpw_written_as_zarr_with_provenance(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "population/gpw_v4_population_count_rev11_2020_1_deg.asc"
    a = adapter("gpw")
    da = a.read([src])
    out = a.write(da, tmp_path / "population.zarr", inputs=[src])
    ds = xr.open_zarr(out, consolidated=False)
    assert float(ds["population"].sum()) == pytest.approx(float(da.sum()))
    assert "sha256" in ds.attrs["provenance"]


def test_writers_refuse_wrong_suffix_and_leave_nothing(tmp_path: Path) -> None:
    import pandas as pd

    with pytest.raises(IngestError, match="must be written to a .parquet path"):
        write_parquet_atomic(pd.DataFrame({"a": [1]}), tmp_path / "x.csv")
    with pytest.raises(IngestError, match="must be written to a .zarr path"):
        write_zarr_atomic(xr.Dataset({"a": ("x", np.arange(3))}), tmp_path / "x.nc")
    p = write_parquet_atomic(pd.DataFrame({"a": [1]}), tmp_path / "x.parquet", {"source": "s"})
    assert read_parquet_provenance(p) == {"source": "s"}
    assert sorted(q.name for q in tmp_path.iterdir()) == ["x.parquet"]
