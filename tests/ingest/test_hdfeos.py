"""HDF-EOS5 helpers: StructMetadata.0 parsing and exact area-weighted regridding (checked by hand)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from carbonmap.contract import Grid
from ingest.base import IngestError
from ingest.hdfeos import area_mean, parse_struct_metadata, struct_metadata_text


def _w(s: float, n: float) -> float:
    """Relative area of a latitude band (sin n - sin s)."""
    return math.sin(math.radians(n)) - math.sin(math.radians(s))


def test_area_mean_coarsens_with_cos_lat_weights_and_masks() -> None:
    # 4 x 4 cells of 0.25 degree, north-up, 40..41 N, 10..11 E, onto 0.5 degree cells
    v = np.arange(16, dtype=np.float64).reshape(4, 4) + 1.0
    ok = np.ones_like(v, dtype=bool)
    ok[0, 0] = False  # NW cell missing
    lat_e = 41.0 - 0.25 * np.arange(5)
    lon_e = 10.0 + 0.25 * np.arange(5)
    mean, frac = area_mean(v, ok, lat_e, lon_e, Grid(0.5, 10.0, 40.0, 11.0, 41.0))
    # NW target cell: rows 0-1 (41.0-40.75, 40.75-40.5), cols 0-1; cell (0, 0) masked
    w0, w1 = _w(40.75, 41.0), _w(40.5, 40.75)
    hand = (v[0, 1] * w0 + v[1, 0] * w1 + v[1, 1] * w1) / (w0 + 2 * w1)
    assert mean[0, 0] == pytest.approx(hand, rel=1e-12)
    assert frac[0, 0] == pytest.approx((w0 + 2 * w1) / (2 * w0 + 2 * w1), rel=1e-12)
    # SE target cell: all valid
    w2, w3 = _w(40.25, 40.5), _w(40.0, 40.25)
    assert mean[1, 1] == pytest.approx(((v[2, 2] + v[2, 3]) * w2 + (v[3, 2] + v[3, 3]) * w3) / (2 * w2 + 2 * w3))
    assert frac[1, 1] == pytest.approx(1.0)


def test_area_mean_splits_cells_for_a_finer_grid() -> None:
    # 0.25 degree source onto 0.1 degree: the cell 10.2-10.3 E straddles the source edge at 10.25
    v = np.array([[1.0, 3.0], [5.0, 7.0]])  # rows: 40.5-40.25 (north), 40.25-40.0
    lat_e = np.array([40.5, 40.25, 40.0])
    lon_e = np.array([10.0, 10.25, 10.5])
    g = Grid(0.1, 10.0, 40.0, 10.5, 40.5)
    mean, frac = area_mean(v, np.ones_like(v, dtype=bool), lat_e, lon_e, g)
    # row 2 of g spans 40.3-40.2 (straddles 40.25), col 2 spans 10.2-10.3 (straddles 10.25)
    wn, ws = _w(40.25, 40.3), _w(40.2, 40.25)
    hand = (wn * (1.0 + 3.0) + ws * (5.0 + 7.0)) / (2 * wn + 2 * ws)  # equal 0.05 degree lon parts
    assert mean[2, 2] == pytest.approx(hand, rel=1e-9)
    assert mean[0, 0] == pytest.approx(1.0) and mean[4, 4] == pytest.approx(7.0) and np.allclose(frac, 1.0)
    # a south-up source (rows ascending) gives the same answer
    mean2, _ = area_mean(v[::-1], np.ones_like(v, dtype=bool), lat_e[::-1], lon_e, g)
    assert np.allclose(mean, mean2)


def test_area_mean_outside_the_source_is_nan() -> None:
    v = np.ones((2, 2))
    mean, frac = area_mean(v, np.ones_like(v, dtype=bool), np.array([1.0, 0.5, 0.0]), np.array([0.0, 0.5, 1.0]),
                           Grid(0.5, 0.0, 0.0, 1.5, 1.0))
    assert np.isnan(mean[:, 2]).all() and (frac[:, 2] == 0).all() and (mean[:, :2] == 1.0).all()


def test_struct_metadata_round_trip() -> None:
    text = struct_metadata_text("VNP_Grid_DNB", 2400, 2400, (0.0, 50000000.0), (10000000.0, 40000000.0),
                                [("DNB_BRDF-Corrected_NTL", np.dtype(np.uint16))])
    g = parse_struct_metadata(text)["VNP_Grid_DNB"]
    assert (g.xdim, g.ydim, g.projection) == (2400, 2400, "HE5_GCTP_GEO") and g.north_up
    assert g.bounds_deg() == (0.0, 40.0, 10.0, 50.0)
    assert g.fields == {"DNB_BRDF-Corrected_NTL": ("YDim", "XDim")}
    with pytest.raises(IngestError, match="describes no grid"):
        parse_struct_metadata("GROUP=SwathStructure\nEND_GROUP=SwathStructure\nEND\n")
