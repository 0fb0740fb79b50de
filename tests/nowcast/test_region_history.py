"""nowcast.region_history: inventory years, the dataset's complete years, a sub-national region's estimated
past, and the peak verdict of a history (the shipped Global Carbon Budget 2025 as the inventory)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonmap import contract as cc
from carbonmap.storage import tables as st
from ingest.gcb import read_gcb
from nowcast import region_history as rh
from nowcast.peak import INVENTORY_YEAR_NOISE
from nowcast.region_totals import Z90, Monthly

REPO = Path(__file__).resolve().parents[2]
GCB = read_gcb(REPO / "data" / "statistical" / "GCB2025v15_MtCO2_flat.csv")
HIST = st.history_table(GCB)
S = len(cc.SECTORS)
SPLIT = np.array([0.4, 0.3, 0.2, 0.08, 0.02, 0.0, 0.0])


def gcb_t(iso3: str, year: int) -> float:
    return float(GCB[(GCB["iso3"] == iso3) & (GCB["year"] == year)]["total"].iloc[0]) * 1e6


def cube_months(year_totals_t: dict[int, float], rel: float = 0.05, scale: float = 1.0) -> Monthly:
    """Whole years of months, each year's total spread by days and split by SPLIT (test data)."""
    m = pd.date_range(f"{min(year_totals_t)}-01-01", f"{max(year_totals_t)}-12-01", freq="MS")
    days = np.array([t.days_in_month for t in m])
    ylen = np.array([366 if t.is_leap_year else 365 for t in m])
    tot = np.array([year_totals_t[t.year] for t in m]) * days / ylen * scale
    return Monthly(m, days, tot[:, None] * SPLIT[None, :], tot * rel, np.zeros((len(m), S)))


def no_evidence(m: Monthly) -> rh.EvidenceMonths:
    return rh.EvidenceMonths(m.months, None)


def test_inventory_rows_are_the_shipped_totals_in_tonnes():
    inv, sec = rh.inventory_rows(HIST, None, ("DEU",), world=False)
    assert inv.index.min() == 1970 and inv[1990] == pytest.approx(gcb_t("DEU", 1990))
    assert sec is None
    two, _ = rh.inventory_rows(HIST, None, ("DEU", "FRA"), world=False)
    assert two[2000] == pytest.approx(gcb_t("DEU", 2000) + gcb_t("FRA", 2000))
    world, _ = rh.inventory_rows(HIST, None, (), world=True)
    assert world[2024] == pytest.approx(gcb_t("WLD", 2024))
    empty, none = rh.inventory_rows(None, None, ("DEU",), world=False)
    assert len(empty) == 0 and none is None


def test_a_year_after_the_inventory_comes_from_the_dataset():
    inv, _ = rh.inventory_rows(HIST, None, ("IND",), world=False)
    last = int(inv.index.max())
    m = cube_months({last: gcb_t("IND", last), last + 1: gcb_t("IND", last) * 1.05}, rel=0.05)
    h = rh.national_history(inv, None, m, no_evidence(m), "the shipped GCB")
    assert h.years[0] == 1970 and h.now_year == last + 1
    assert h.basis[-1] == "dataset" and set(h.basis[:-1]) == {"inventory"}
    assert h.total_t[-1] == pytest.approx(gcb_t("IND", last) * 1.05)
    assert h.total_t[-2] == pytest.approx(gcb_t("IND", last))  # the inventory, not the cube, for its years
    # inventory years take the relative interval of the cube's first complete inventory year (5 %)
    assert h.rel_level[0] == pytest.approx(0.05) and h.rel_level[-1] == pytest.approx(0.05)
    assert h.rel_independent[0] == INVENTORY_YEAR_NOISE and h.rel_independent[-1] == INVENTORY_YEAR_NOISE
    assert h.evidence[0] == {rh.INVENTORY_EVIDENCE: 1.0} and h.evidence[-1] == {}
    assert h.sectors is not None  # no sector table: the cube's split carried over every year
    assert h.sectors["power"] / h.total_t == pytest.approx(np.full(len(h.years), SPLIT[0]))
    assert "the shipped GCB" in h.note
    lower, upper = h.interval90()
    assert upper[-1] - h.total_t[-1] == pytest.approx(Z90 * 0.05 * h.total_t[-1])
    assert (lower >= 0).all()


def test_dataset_years_with_a_wider_interval_are_more_independent():
    inv, _ = rh.inventory_rows(HIST, None, ("DEU",), world=False)
    last = int(inv.index.max())
    m = cube_months({last: gcb_t("DEU", last)}, rel=0.05)
    m2 = cube_months({last + 1: gcb_t("DEU", last)}, rel=0.13)
    both = Monthly(m.months.append(m2.months), np.concatenate([m.days, m2.days]), np.concatenate([m.est, m2.est]),
                   np.concatenate([m.total_sigma, m2.total_sigma]), np.zeros((24, S)))
    h = rh.national_history(inv, None, both, no_evidence(both), "x")
    assert h.rel_independent[-1] == pytest.approx(np.sqrt(0.13 ** 2 - 0.05 ** 2))


def test_evidence_of_the_dataset_years():
    m = pd.date_range("2025-01-01", periods=12, freq="MS")
    by = np.zeros((12, len(cc.EVIDENCE_LEVELS)))
    by[:6, 2] = 1.0  # monthly statistics for half a year, a model for the rest
    by[6:, 0] = 1.0
    assert rh.year_evidence(rh.EvidenceMonths(m, by), [2025]) == [{"model": 0.5, "monthly-statistics": 0.5}]
    assert rh.year_evidence(rh.EvidenceMonths(m, None), [2025]) == [{}]


def test_only_the_consecutive_tail_is_kept():
    assert rh.consecutive_tail(np.array([1990, 1991, 1995, 1996, 1997])).tolist() == [2, 3, 4]
    assert rh.consecutive_tail(np.array([2000])).tolist() == [0]
    assert rh.consecutive_tail(np.array([], dtype=int)).tolist() == []


def test_a_region_inside_a_country_carries_its_share_back():
    inv, _ = rh.inventory_rows(HIST, None, ("USA",), world=False)
    last = int(inv.index.max())
    years = {last: gcb_t("USA", last)}
    country = cube_months(years)
    nh = rh.national_history(inv, None, country, no_evidence(country), "x")
    region = cube_months(years, scale=0.1)
    region.est[:, 5] = 1.0  # a bunker sector the country does not report: follows the country's total
    h = rh.polygon_history(region, no_evidence(region), "USA", country, nh)
    assert h.years[0] == 1970 and h.now_year == last
    assert set(h.basis[:-1]) == {"estimated"} and h.basis[-1] == "dataset"
    assert h.evidence[0] == {rh.ESTIMATED: 1.0} and "USA" in h.note
    assert h.sectors is not None
    assert h.sectors["power"][0] == pytest.approx(0.1 * gcb_t("USA", 1970) * SPLIT[0])
    bunker = cc.SECTORS[5]
    assert h.sectors[bunker][0] == pytest.approx(gcb_t("USA", 1970) * 12 / gcb_t("USA", last))
    ratio = h.total_t[:-1] / nh.total_t[:-1]
    assert ratio == pytest.approx(np.full(len(ratio), ratio[0])) and 0.1 < ratio[0] < 0.11
    alone = rh.polygon_history(region, no_evidence(region), None, None, None)  # open sea: no past
    assert alone.years.tolist() == [last] and alone.note == "the dataset's complete years only"


def test_the_peak_verdict_of_a_history():
    inv, _ = rh.inventory_rows(HIST, None, ("DEU",), world=False)
    m = cube_months({2020: gcb_t("DEU", 2020)})  # a cube inside the inventory years adds no year
    h = rh.national_history(inv, None, m, no_evidence(m), "x")
    assert h.now_year == int(inv.index.max())
    deu = rh.history_peak(h)
    assert deu.verdict == "peaked" and deu.peak_year == int(inv.idxmax())
    empty = rh.History(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0), [], None)
    assert rh.history_peak(empty).verdict == "not enough data"
