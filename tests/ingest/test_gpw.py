from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.base import IngestError
from ingest.gpw import read_gpw_ascii

GPW = "population/gpw_v4_population_count_rev11_2020_1_deg.asc"


def test_real_grid(data_dir: Path) -> None:
    p = read_gpw_ascii(data_dir / GPW)
    assert p.dims == ("lat", "lon") and p.shape == (180, 360)
    assert p.lat[0] == 89.5 and p.lat[-1] == -89.5 and p.lon[0] == -179.5
    assert 7.5e9 < float(p.sum()) < 8.5e9  # 2020 world population
    assert float(p.min()) == 0.0
    # Shanghai-ish cell is populous; an ocean cell is 0
    assert float(p.sel(lat=31.5, lon=121.5)) > 1e6
    assert float(p.sel(lat=-40.5, lon=-140.5)) == 0.0


def _asc(tmp_path: Path, header: str, rows: list[str]) -> Path:
    f = tmp_path / "g.asc"
    f.write_text(header + "\n".join(rows) + "\n")
    return f


HDR = "ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value -9999\n"


def test_tiny_fixture_orientation(tmp_path: Path) -> None:
    p = read_gpw_ascii(_asc(tmp_path, HDR, ["1 2 -9999", "4 5 6"]))
    assert list(p.lat.values) == [1.5, 0.5] and list(p.lon.values) == [0.5, 1.5, 2.5]
    np.testing.assert_array_equal(p.values, [[1, 2, 0], [4, 5, 6]])


def test_malformed_header(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"header line 3 should be 'xllcorner <number>'"):
        read_gpw_ascii(_asc(tmp_path, "ncols 3\nnrows 2\nxllcenter 0\nyllcorner 0\ncellsize 1\nNODATA_value -9\n",
                            ["1 2 3", "4 5 6"]))
    with pytest.raises(IngestError, match="holds 5 values"):
        read_gpw_ascii(_asc(tmp_path, HDR, ["1 2 3", "4 5"]))
    with pytest.raises(IngestError, match="outside lon"):
        read_gpw_ascii(_asc(tmp_path, HDR.replace("xllcorner 0", "xllcorner 500000"), ["1 2 3", "4 5 6"]))
    with pytest.raises(IngestError, match="not numeric"):
        read_gpw_ascii(_asc(tmp_path, HDR, ["1 2 x", "4 5 6"]))
