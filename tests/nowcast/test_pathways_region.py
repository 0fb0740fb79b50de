"""nowcast.pathways for a region's history: the assessment, the sector roadmap and the levers' context read from
the release tables (the shipped Global Carbon Budget 2025 as the national history)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonmap.storage import tables as st
from ingest.gcb import read_gcb
from nowcast import pathways as pw
from nowcast import peak as pk

REPO = Path(__file__).resolve().parents[2]
HIST = st.history_table(read_gcb(REPO / "data" / "statistical" / "GCB2025v15_MtCO2_flat.csv"))
YEARS = np.arange(2015, 2025)
TOTAL = np.linspace(100.0, 120.0, len(YEARS))


def verdict(years: np.ndarray, total: np.ndarray) -> pk.PeakResult:
    return pk.peak_verdict(years, total, np.full(len(years), 0.02))


def test_assess_region_needs_two_years_and_counts_only_a_peaked_verdict():
    target = pw.Target("peak", 2030)
    with pytest.raises(pw.TargetError, match="fewer than two complete years"):
        pw.assess_region(target, YEARS[-1:], TOTAL[-1:], verdict(YEARS, TOTAL))
    rising = pw.assess_region(target, YEARS, TOTAL, verdict(YEARS, TOTAL))
    assert not rising.met and rising == pw.assess_target(target, YEARS, TOTAL, None)
    down = np.concatenate([TOTAL[:5], TOTAL[4::-1] * 0.9])
    v = verdict(YEARS, down)
    assert v.verdict == "peaked"
    assert pw.assess_region(target, YEARS, down, v).met


def test_region_pathway_starts_from_each_sectors_last_year():
    sectors = {"power": TOTAL * 0.6, "industry": TOTAL * 0.4}
    a = pw.assess_region(pw.Target("cut", 2035, 50.0, 2015), YEARS, TOTAL, verdict(YEARS, TOTAL))
    p = pw.region_pathway(a, YEARS, TOTAL, sectors, {}, pw.RegionContext())
    assert p.years[0] == 2024 and p.sectors["power"][0] == pytest.approx(72.0)
    assert p.total[-1] == pytest.approx(50.0) and p.reaches_target
    want = pw.pathway(a.target, 2024, {s: float(v[-1]) for s, v in sectors.items()},
                      {s: pk.trend_growth(v) for s, v in sectors.items()}, a.target_t, {}, pw.RegionContext(),
                      YEARS, TOTAL)
    assert p == want
    with pytest.raises(pw.TargetError, match="no sector history"):
        pw.region_pathway(a, YEARS, TOTAL, None, {}, pw.RegionContext())
    with pytest.raises(pw.TargetError, match="emitted nothing in 2024"):
        pw.region_pathway(a, YEARS, TOTAL, {s: v * 0 for s, v in sectors.items()}, {}, pw.RegionContext())


def test_region_context_from_the_release_tables():
    mix = pd.DataFrame({"iso3": ["DEU"], "year": [2024], "coal_twh": [100.0], "gas_twh": [80.0], "oil_twh": [20.0],
                        "total_twh": [400.0], "grid_t_per_mwh": [0.35]})
    last = HIST[(HIST["iso3"] == "DEU") & HIST["total"].notna()].sort_values("year").iloc[-1]
    sector = pd.DataFrame({"iso3": ["DEU"], "year": [int(last["year"])], "industry": [100.0]})
    c = pw.region_context(mix, HIST, sector, "DEU")
    assert (c.coal_share, c.gas_share, c.oil_share, c.grid_t_per_mwh) == (0.25, 0.2, 0.05, 0.35)
    assert "DEU's generation in 2024" in c.mix_source
    assert c.process_share_industry == pytest.approx(np.nansum([last["cement"], last["flaring"]]) / 100.0)
    assert pw.region_context(mix, HIST, sector, "FRA") == pw.RegionContext()
    assert pw.region_context(None, None, None, None) == pw.RegionContext()
