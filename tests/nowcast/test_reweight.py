"""NO2 reweighting keeps every national total and moves weight toward high-ratio cells."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nowcast.downscale import Coverage, downscale, sector_weights
from nowcast.reweight import ReweightError, no2_reweight


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 30), st.integers(1, 5), st.data())
def test_reweighting_keeps_every_country_total(n_cells: int, n_regions: int, data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 50))
    region = np.array(data.draw(st.lists(st.integers(0, n_regions - 1), min_size=n, max_size=n)))
    cell = np.array(data.draw(st.lists(st.integers(0, n_cells - 1), min_size=n, max_size=n)))
    frac = np.array(data.draw(st.lists(st.floats(0.01, 1), min_size=n, max_size=n)))
    pop = np.array(data.draw(st.lists(st.floats(0, 1e6), min_size=n_cells, max_size=n_cells)))
    ratio = np.array(data.draw(st.lists(st.one_of(st.floats(0, 50), st.just(np.nan)),
                                        min_size=n_cells, max_size=n_cells)))
    alpha = data.draw(st.floats(0, 3))
    national = np.array(data.draw(st.lists(st.floats(0, 1e12), min_size=n_regions, max_size=n_regions)))
    w = sector_weights(n_cells, n_regions, Coverage(region, cell, frac), pop, pop).matrix
    before = np.asarray(w.sum(axis=0)).ravel()
    out = no2_reweight(w, ratio, alpha)
    after = np.asarray(out.sum(axis=0)).ravel()
    np.testing.assert_allclose(after[before > 0], 1.0, rtol=1e-12)
    assert np.all(after[before == 0] == 0)
    for r in np.flatnonzero(before > 0):
        only = np.zeros(n_regions)
        only[r] = national[r]
        assert abs(downscale(out, only).sum() - national[r]) <= 1e-9 * max(national[r], 1.0)


def test_weight_moves_toward_high_no2_within_a_country() -> None:
    # one country over 3 cells with equal population; NO2 ratio 1, 4, NaN; alpha 0.5 -> factors 1, 2, 1
    w = sector_weights(3, 1, Coverage(np.zeros(3, int), np.arange(3), np.ones(3)), np.ones(3), np.ones(3)).matrix
    out = no2_reweight(w, np.array([1.0, 4.0, np.nan]), 0.5)
    np.testing.assert_allclose(out.toarray().ravel(), [0.25, 0.5, 0.25], rtol=1e-12)
    # alpha 0 changes nothing; a ratio of 0 everywhere keeps the original column
    np.testing.assert_allclose(no2_reweight(w, np.array([1.0, 4.0, 9.0]), 0.0).toarray(), w.toarray())
    np.testing.assert_allclose(no2_reweight(w, np.zeros(3), 1.0).toarray(), w.toarray())


def test_bad_ratio_or_alpha_is_refused() -> None:
    w = sector_weights(2, 1, Coverage(np.zeros(2, int), np.arange(2), np.ones(2)), np.ones(2), np.ones(2)).matrix
    with pytest.raises(ReweightError, match="regrid"):
        no2_reweight(w, np.ones(3), 1.0)
    with pytest.raises(ReweightError, match="alpha"):
        no2_reweight(w, np.ones(2), -1.0)
    with pytest.raises(ReweightError, match=">= 0"):
        no2_reweight(w, np.array([1.0, -2.0]), 1.0)
