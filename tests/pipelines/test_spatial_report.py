"""carbonmap spatial-report writes the held-out province scores (on a coarse grid, for time)."""

from __future__ import annotations

import json
from pathlib import Path

from carbonmap.settings import get_settings
from pipelines.spatial_report import run


def test_report_scores_each_country_with_statistics(tmp_path: Path) -> None:
    figs = run(2.0, tmp_path, settings=get_settings())
    assert set(figs["countries"]) == {"CHN", "IND", "TUR", "USA"}
    for iso3, row in figs["countries"].items():
        h, w = row["held_out"], row["with_statistics"]
        assert h["n"] >= 25, iso3
        assert -1.0 <= h["spearman"] <= 1.0 and 0.0 <= h["within_30pct"] <= 1.0
        # the province level moves the shares towards the statistics
        assert w["weighted_abs_log_ratio"] < h["weighted_abs_log_ratio"], iso3
    rule = figs["share_interval_rule"]
    assert rule["s0"] > 0 and 0 <= rule["beta"] <= 0.6 and set(rule["sets"]) >= {"CHN power", "CHN industry"}
    ind = figs["industry"]["CHN"]
    assert ind["with_statistics"]["weighted_abs_log_ratio"] < ind["held_out"]["weighted_abs_log_ratio"]
    on_disk = json.loads((tmp_path / "spatial.json").read_text())
    assert on_disk["province_sigma_log"] == figs["province_sigma_log"] > 0
    assert "| CHN |" in (tmp_path / "spatial.md").read_text()


def test_a_coastal_cell_gives_all_its_emissions_to_its_provinces() -> None:
    import numpy as np

    from nowcast.downscale import Coverage
    from nowcast.subnational import ProvinceLevel
    from pipelines.spatial_report import _province_totals

    # cell 0: 20 % province A, the rest sea; cell 1: half A, half B; cell 2: all B
    cov = Coverage(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2]), np.array([0.2, 0.5, 0.5, 1.0]))
    level = ProvinceLevel("AAA", ("A", "B"), cov, np.array([0.5, 0.5]), "test")
    got = _province_totals(np.array([10.0, 4.0, 1.0]), level)
    assert got["A"] == 10.0 + 2.0 and got["B"] == 2.0 + 1.0
    assert got.sum() == 15.0   # nothing of the country's field is lost at the coast
