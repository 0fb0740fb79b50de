"""Backtest quick run on the real GCB vintages: every key, finite numbers, files written."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingest.gcb import read_gcb
from nowcast.backtest import BacktestError, run_backtest, sector_activity, top_emitters, wide_totals

DATA = Path(__file__).resolve().parents[2] / "data" / "statistical"
KEYS = ("top20_growth_mae_pp", "persistence_top20_growth_mae_pp", "global_growth_error_pp", "rolling_top20_mape",
        "rolling_persistence_top20_mape", "coverage90", "trend5_top20_growth_mae_pp", "rolling_trend5_top20_mape")


@pytest.fixture(scope="module")
def vintages() -> tuple[pd.DataFrame, pd.DataFrame]:
    return (read_gcb(DATA / "GCB2024v17_MtCO2_flat.csv"), read_gcb(DATA / "GCB2025v15_MtCO2_flat.csv"))


def test_top20_persistence_matches_the_issue(vintages) -> None:
    old, new = (wide_totals(v) for v in vintages)
    top = top_emitters(old, 2023)
    assert top[:3] == ["CHN", "USA", "IND"] and "XIS" not in top
    realised = (new.loc[top, 2024] / new.loc[top, 2023] - 1) * 100
    assert realised.abs().mean() == pytest.approx(2.48, abs=0.005)


def test_quick_backtest_writes_every_key(vintages, tmp_path: Path) -> None:
    old, new = vintages
    # a small indicator table: the Carbon Monitor ratio baseline must appear where indicators exist
    idx = pd.MultiIndex.from_product([["CHN", "USA"], range(2000, 2025)], names=["iso3", "year"])
    rng = np.random.default_rng(0)
    ind = pd.DataFrame({"hdd": rng.uniform(2000, 3000, len(idx)), "cdd": rng.uniform(100, 300, len(idx))}, index=idx)
    figs = run_backtest(old, new, tmp_path, indicators=ind, quick=True)
    for k in KEYS:
        assert isinstance(figs[k], float) and math.isfinite(figs[k]), k
    assert figs["persistence_top20_growth_mae_pp"] > 0
    assert 0.0 <= figs["coverage90"] <= 1.0
    assert figs["cm_ratio_top20_n"] == 2 and math.isfinite(figs["cm_ratio_top20_growth_mae_pp"])
    assert set(figs["gcb2024_projection"]) == {"WLD", "CHN", "USA", "IND"}
    assert figs["gcb2024_projection"]["WLD"]["projection_error_pp"] == pytest.approx(0.8 - 1.324, abs=0.01)
    on_disk = json.loads((tmp_path / "backtest.json").read_text())
    assert on_disk["top20_growth_mae_pp"] == pytest.approx(figs["top20_growth_mae_pp"])
    md = (tmp_path / "backtest.md").read_text()
    assert "Published anchor" in md and "persistence" in md
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list(tmp_path.glob("*.png"))) == 2
    assert not list(tmp_path.glob(".*tmp*"))


def test_sector_activity_fallbacks() -> None:
    idx = pd.MultiIndex.from_product([["AAA"], [2020, 2021]], names=["iso3", "year"])
    act = sector_activity(pd.DataFrame({"hdd": [1000.0, 2000.0], "cdd": [0.0, 0.0]}, index=idx))
    assert act.loc[("AAA", 2021), "residential"] > act.loc[("AAA", 2020), "residential"]
    assert act.loc[("AAA", 2021), "power"] > act.loc[("AAA", 2020), "power"]


def test_missing_years_refused(vintages) -> None:
    old, _ = vintages
    with pytest.raises(BacktestError, match="no 2023->2024 growth"):
        run_backtest(old, old, Path("/nonexistent"), quick=True)
