"""carbonmap spatial-report writes the held-out province scores (on a coarse grid, for time)."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.spatial_report import run


def test_report_scores_each_country_with_statistics(tmp_path: Path) -> None:
    figs = run(2.0, tmp_path)
    assert set(figs["countries"]) == {"CHN", "IND", "USA"}
    for iso3, row in figs["countries"].items():
        h, w = row["held_out"], row["with_statistics"]
        assert h["n"] >= 25, iso3
        assert -1.0 <= h["spearman"] <= 1.0 and 0.0 <= h["within_30pct"] <= 1.0
        # the province level moves the shares towards the statistics
        assert w["weighted_abs_log_ratio"] < h["weighted_abs_log_ratio"], iso3
    ind = figs["industry"]["CHN"]
    assert ind["with_statistics"]["weighted_abs_log_ratio"] < ind["held_out"]["weighted_abs_log_ratio"]
    on_disk = json.loads((tmp_path / "spatial.json").read_text())
    assert on_disk["province_sigma_log"] == figs["province_sigma_log"] > 0
    assert "| CHN |" in (tmp_path / "spatial.md").read_text()
