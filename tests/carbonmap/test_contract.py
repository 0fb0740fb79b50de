"""The cube contract: grid geometry, sectors, chunking, attributes."""

from __future__ import annotations

import numpy as np
import pytest

from carbonmap import contract as cc


def test_sectors_are_the_seven_in_order() -> None:
    assert cc.SECTORS == ("power", "industry", "ground_transport", "residential", "domestic_aviation",
                          "international_aviation", "international_shipping")
    assert set(cc.NATIONAL_SECTORS) | set(cc.INTERNATIONAL_SECTORS) == set(cc.SECTORS)


@pytest.mark.parametrize("res", [0.1, 0.25, 0.5, 1.0, 2.0, 5.0])
def test_global_grid_geometry(res: float) -> None:
    g = cc.Grid(res)
    assert g.shape == (round(180 / res), round(360 / res))
    assert g.lat[0] == pytest.approx(90 - res / 2) and g.lat[-1] == pytest.approx(-90 + res / 2)
    assert np.all(np.diff(g.lat) < 0), "north-up"
    assert g.lon[0] == pytest.approx(-180 + res / 2) and g.lon[-1] == pytest.approx(180 - res / 2)
    # the sphere's area is recovered from cell areas
    assert g.cell_area_m2().sum() * g.nlon == pytest.approx(4 * np.pi * 6371008.8**2, rel=1e-9)


@pytest.mark.parametrize("res", [0.7, 0.0, -1.0, 7.0, float("nan")])
def test_bad_resolution_is_refused(res: float) -> None:
    with pytest.raises(cc.ContractError):
        cc.Grid(res)


def test_grid_is_immutable_and_methods_return_new_grids() -> None:
    g = cc.Grid(0.25)
    with pytest.raises(AttributeError):
        g.resolution = 1.0  # type: ignore[misc]
    c = g.coarsen(4)
    assert c.resolution == 1.0 and g.resolution == 0.25
    s = g.subset(5.1, 47.2, 15.0, 55.1)
    assert s.bounds == (5.0, 47.0, 15.0, 55.25)
    rows, cols = g.slices_of(s)
    assert np.allclose(g.lat[rows], s.lat) and np.allclose(g.lon[cols], s.lon)
    assert cc.Grid.from_coords(s.lat, s.lon) == s


def test_cell_index_of_points_and_edges() -> None:
    g = cc.Grid(1.0)
    row, col = g.cell_index(np.array([-180.0, 179.99, 180.0, 0.5, 200.0]), np.array([90.0, -89.99, -90.0, 0.5, 0.0]))
    assert row.tolist() == [0, 179, 179, 89, -1]
    assert col.tolist() == [0, 359, 359, 180, -1]


def test_chunking_documented_shapes() -> None:
    g = cc.Grid(0.1)
    assert g.map_chunks() == (1, 1, 450, 450)
    assert g.map_shards() == (1, 7, 1800, 3600)
    assert g.timeseries_chunks() == (32, 7, 20, 20)
    small = cc.Grid(5.0)  # coarse grids: a floor in cells, not degrees (zarr's cost is per chunk)
    assert small.map_chunks() == (1, 1, 36, 72)
    assert small.map_shards() == (1, 7, 36, 72)
    assert small.timeseries_chunks() == (32, 7, 20, 20)
    assert cc.Grid(0.25).map_chunks() == (1, 1, 180, 180)
    assert cc.Grid(0.25).timeseries_chunks() == (32, 7, 20, 20)
    assert cc.Grid(1.0).map_chunks() == (1, 1, 128, 128)


def test_sector_validation_messages() -> None:
    assert cc.parse_sectors(None) == cc.SECTORS
    assert cc.parse_sectors("power, residential") == ("power", "residential")
    with pytest.raises(cc.ContractError, match="unknown sector 'coal'.*power"):
        cc.parse_sectors("power,coal")


def test_global_attrs_carry_cf_acdd_and_provenance(tmp_path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    inp = cc.InputFile.of(f, source="test", license="CC0", role="test", root=tmp_path)
    assert inp.path == "x.csv" and len(inp.sha256) == 64
    prov = cc.Provenance(inputs=(inp,), code_version="9", build_time="2024-01-01T00:00:00Z")
    a = cc.global_attrs(dataset_id="d", title="t", grid=cc.Grid(1.0), start="2024-01-01", end="2024-01-02",
                        provenance=prov, summary="s")
    assert a["Conventions"] == "CF-1.10, ACDD-1.3"
    for key in ("title", "summary", "license", "history", "source", "references", "time_coverage_start",
                "geospatial_lat_min"):
        assert a[key] not in (None, "")
    assert a["provenance_inputs"][0]["sha256"] == inp.sha256
    assert cc.emissions_attrs()["units"] == "kg day-1"
