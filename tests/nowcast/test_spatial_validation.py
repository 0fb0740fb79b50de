"""Province agreement metrics and the interval rule (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nowcast import spatial_validation as sv


def test_perfect_model_scores_perfectly_and_units_drop_out() -> None:
    stats = pd.Series({"A": 10.0, "B": 30.0, "C": 60.0})
    a = sv.agreement(stats * 1e9, stats)  # kg against Mt: only shares matter
    assert a["spearman"] == pytest.approx(1.0) and a["median_abs_log_ratio"] == pytest.approx(0.0)
    assert a["within_30pct"] == 1.0 and a["n"] == 3


def test_misplaced_model_scores_badly() -> None:
    stats = pd.Series({"A": 10.0, "B": 30.0, "C": 60.0, "D": 5.0})
    model = pd.Series({"A": 60.0, "B": 30.0, "C": 10.0, "D": 5.0})
    a = sv.agreement(model, stats)
    assert a["spearman"] < 0.5 and a["within_30pct"] == 0.5
    assert a["median_abs_log_ratio"] > 0.5


def test_sigma_and_coverage() -> None:
    lr = pd.Series(np.random.default_rng(0).normal(0, 0.3, 20000))
    sigma = sv.calibrate_sigma(lr)
    assert sigma == pytest.approx(0.3, rel=0.03)
    assert sv.coverage90(lr, sigma) == pytest.approx(0.90, abs=0.01)
    loo = sv.leave_one_out({"X": lr[:10000], "Y": lr[10000:] * 3})
    assert loo["Y"]["coverage90"] < 0.6  # Y's errors are 3x wider than X's sigma allows
