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


def _held_out_table(seed: int, sets: dict[str, float]) -> pd.DataFrame:
    """Synthetic held-out shares: log errors of scale ``sets[name]`` that grow as shares shrink."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, scale in sets.items():
        share = rng.dirichlet(np.full(40, 0.8))
        err = rng.normal(0.0, scale * (np.maximum(share, 1e-6) / 0.03) ** -0.2, size=share.size)
        rows.append(pd.DataFrame({"set": name, "share": share, "abs_log_ratio": np.abs(err)}))
    return pd.concat(rows, ignore_index=True)


def test_share_rule_covers_each_set_and_is_zero_for_a_whole_country():
    table = _held_out_table(1, {"a": 0.2, "b": 0.3, "c": 0.25})
    rule = sv.fit_share_rule(table)
    for _, g in table.groupby("set"):
        assert rule.covered(g["share"].to_numpy(), g["abs_log_ratio"].to_numpy()).mean() >= 0.85
    assert rule.log_sigma(1.0) == 0.0
    assert rule.log_sigma(0.001) > rule.log_sigma(0.1) > 0
    assert rule.beta > 0   # the synthetic errors grow as shares shrink, and the fit sees it


def test_leave_one_set_out_scores_each_set_with_the_others_rule():
    table = _held_out_table(2, {"a": 0.2, "b": 0.2, "wild": 1.5})
    loo = sv.leave_one_set_out(table)
    assert set(loo) == {"a", "b", "wild"}
    assert loo["wild"]["coverage90"] < 0.7    # a set far worse than the others is not covered by their rule


def test_the_api_rule_is_the_one_the_spatial_report_fitted():
    import json
    from pathlib import Path

    fitted = json.loads((Path(__file__).resolve().parents[2] / "reports" / "spatial.json").read_text())
    r = fitted["share_interval_rule"]
    assert sv.SHARE_RULE.s0 == pytest.approx(r["s0"], abs=1e-4)
    assert sv.SHARE_RULE.beta == pytest.approx(r["beta"])
    assert sv.SHARE_RULE.ref == r["ref"]
