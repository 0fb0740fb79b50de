"""GET /regions/{id}/analysis, POST /emissions/analysis, GET /regions/{id}/pathway (issue #17) on real cubes.

``real_cube`` is built by the real pipeline (5 degrees, 2024-03-01..10) with the release tables (national
history, facilities); ``two_years`` is a small cube covering 2024-2025 whole (national table: the shipped GCB
2024 totals, 2025 grown by a known factor) with the same history table, so a year after the inventory
comes from the dataset.  Each defect of the issue has a regression test here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient

from api.app import create_app
from api.national_series import Z90
from carbonmap import contract as cc
from carbonmap.registry import Registry
from carbonmap.settings import Settings
from ingest.gcb import read_gcb
from ingest.region_catalogue import load_catalogue
from pipelines import release_tables as rt
from pipelines import store
from pipelines.timeseries import build_timeseries

REPO = Path(__file__).resolve().parents[3]
GCB = read_gcb(REPO / "data" / "statistical" / "GCB2025v15_MtCO2_flat.csv")
TWO = ("DEU", "IND", "USA")
GROWTH_2025 = {"DEU": -0.04, "IND": 0.05, "USA": 0.01}


@pytest.fixture(scope="module")
def client(real_cube: Path) -> TestClient:
    build_timeseries(real_cube)
    reg = Registry()
    reg.add(real_cube)
    return TestClient(create_app(reg, Settings()), raise_server_exceptions=False)


def write_two_year_cube(path: Path) -> Path:
    """2024-01-01..2025-12-31 on a 10 degree grid; each country's national total in one cell (test data built
    from the shipped GCB 2024 totals: flat days, a fixed sector split, 2025 = 2024 x (1 + GROWTH_2025))."""
    grid = cc.Grid(10.0)
    times = pd.date_range("2024-01-01", "2025-12-31", freq="D")
    prov = cc.Provenance(inputs=(), code_version="test", build_time=dt.datetime.now(dt.UTC).isoformat(),
                         methods={"temporal": "flat"}, proxies=("test national table",))
    attrs = cc.global_attrs(dataset_id="two-years", title="two years", grid=grid, start="2024-01-01",
                            end="2025-12-31", provenance=prov, summary="test")
    attrs["carbonmap_data_edge"] = {"DEU": {"power": "monthly-statistics through 2025-06-30 (test); after that, a "
                                                     "model"}}
    tmp = store.building_path(path)
    store.create(tmp, grid, times, list(TWO), attrs)
    split = np.array([0.4, 0.3, 0.2, 0.08, 0.02, 0.0, 0.0])
    nat = np.zeros((len(times), len(cc.SECTORS), len(TWO)))
    for k, c in enumerate(TWO):
        t24 = float(GCB[(GCB["iso3"] == c) & (GCB["year"] == 2024)]["total"].iloc[0]) * 1e9  # kg
        year = np.where(times.year == 2024, t24 / 366, t24 * (1 + GROWTH_2025[c]) / 365)
        nat[:, :, k] = year[:, None] * split[None, :]
    ev = np.where((times.year == 2024)[:, None, None], 1, 0) * np.ones(nat.shape, dtype=np.int8)
    cells = [(4, 19), (6, 25), (5, 8)]
    for t in range(len(times)):
        field = np.zeros((len(cc.SECTORS), grid.nlat, grid.nlon))
        for k, (r, c) in enumerate(cells):
            field[:, r, c] = nat[t, :, k]
        store.write_day(tmp, t, field, np.where(field > 0, 0.05, 0.0))
    store.write_national(tmp, nat, np.where(nat > 0, 0.05, 0.0), ev.astype(np.int8))
    rt.write_tables(tmp, {rt.HISTORY: rt.history_table(GCB)})
    return store.seal(tmp, path)


@pytest.fixture(scope="module")
def two_years(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    cube = write_two_year_cube(tmp_path_factory.mktemp("two") / "two-years.zarr")
    reg = Registry()
    reg.add(cube)
    return TestClient(create_app(reg, Settings()), raise_server_exceptions=False)


def gcb_series(iso3: str) -> pd.Series:
    d = GCB[(GCB["iso3"] == iso3) & (GCB["year"] >= 1970) & GCB["total"].notna()]
    return d.set_index("year")["total"] * 1e6


# ----------------------------------------------------------------------------------------------- see it
def test_country_total_interval_evidence_and_history(client: TestClient):
    r = client.get("/regions/DEU/analysis", params={"top": 5})
    assert r.status_code == 200, r.text
    a = r.json()
    e = client.get("/regions/DEU/emissions", params={"freq": "year"}).json()
    assert a["region"]["scope"] == "national table" and a["region"]["home_country"] == "DEU"
    assert a["total"]["emissions_t"] == pytest.approx(sum(p["total"]["emissions"] for p in e["periods"]), rel=1e-9)
    assert a["total"]["lower_t"] < a["total"]["emissions_t"] < a["total"]["upper_t"]
    assert sum(a["total"]["evidence"].values()) == pytest.approx(1.0, abs=1e-5)
    shares = [s["share"] for s in a["sectors"]]
    assert shares == sorted(shares, reverse=True) and sum(shares) == pytest.approx(1.0)
    h = a["history"]
    gcb = gcb_series("DEU")
    assert h["years"] == list(gcb.index) and h["years"][0] == 1970  # decades beside a 10-day cube
    assert h["total_t"] == pytest.approx(gcb.to_list(), rel=1e-9) and set(h["basis"]) == {"inventory"}
    assert all(lo <= v <= hi for lo, v, hi in zip(h["lower_t"], h["total_t"], h["upper_t"], strict=True))
    sums = np.sum([h["sectors"][s] for s in cc.SECTORS], axis=0)
    assert sums == pytest.approx(h["total_t"], rel=1e-6)


def test_peak_verdict_uses_annual_totals_not_a_week(client: TestClient):
    """Defect: with one year of data every region was 'peaked' from a 7-day decomposition."""
    deu = client.get("/regions/DEU/analysis").json()["peak"]
    assert deu["verdict"] == "peaked" and deu["peak_year"] == int(gcb_series("DEU").idxmax())
    assert 0.5 < deu["probability"] <= 1 and deu["likelihood"]
    ind = client.get("/regions/IND/analysis").json()["peak"]
    assert ind["verdict"] == "still rising" and ind["peak_year"] is None


def test_world_and_the_usa_answer(client: TestClient, real_cube: Path):
    """Defects: /regions/WLD/analysis was 404; /regions/USA/analysis was 422 'ask for a coarser freq'."""
    w = client.get("/regions/WLD/analysis")
    assert w.status_code == 200, w.text
    assert w.json()["region"]["type"] == "world" and w.json()["history"]["years"][0] == 1970
    reg = Registry()
    reg.add(real_cube)
    tight = TestClient(create_app(reg, Settings(max_cells_days=50)), raise_server_exceptions=False)
    r = tight.get("/regions/USA/analysis")
    assert r.status_code == 200, r.text
    assert r.json()["total"]["emissions_t"] > 0


def test_a_year_after_the_inventory_comes_from_the_dataset(two_years: TestClient):
    a = two_years.get("/regions/IND/analysis").json()
    h = a["history"]
    assert h["years"][-1] == 2025 and h["basis"][-1] == "dataset" and h["basis"][-2] == "inventory"
    want = float(gcb_series("IND")[2024]) * (1 + GROWTH_2025["IND"])
    assert h["total_t"][-1] == pytest.approx(want, rel=1e-6)
    assert h["evidence"][-1] == {"model": 1.0}
    half = (h["upper_t"][-1] - h["total_t"][-1]) / Z90
    assert half / h["total_t"][-1] == pytest.approx(0.05, rel=1e-3)
    twelve = a["latest_12_months"]
    assert twelve["start"] == "2025-01-01" and twelve["change_pct"] == pytest.approx(
        ((1 + GROWTH_2025["IND"]) * 366 / 365 * 365 / 366 - 1) * 100, rel=1e-3)
    d = two_years.get("/regions/DEU/analysis").json()
    assert d["data_edge"]["power"].startswith("monthly-statistics through 2025-06-30")


def test_subnational_history_is_estimated_and_labelled(client: TestClient):
    r = client.get("/regions/US-TX/analysis")
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["region"]["scope"] == "polygon" and a["region"]["home_country"] == "USA"
    h = a["history"]
    assert h["years"][0] == 1970 and set(h["basis"]) == {"estimated"} and "estimated" in h["note"]
    assert "estimated" in next(iter(h["evidence"][0]))
    usa = client.get("/regions/USA/analysis").json()["history"]
    ratio = np.array(h["total_t"]) / np.array(usa["total_t"])
    assert 0 < ratio.min() and ratio.max() < 1  # a share of its country, every year
    assert a["sectors"][0]["evidence"] is not None  # the home country's evidence, by sector
    # inside a country the interval adds the log-normal allocation term: wider above than below, wider than USA's
    t, u = a["total"], client.get("/regions/USA/analysis").json()["total"]
    assert t["upper_t"] - t["emissions_t"] > t["emissions_t"] - t["lower_t"] > 0
    assert (t["upper_t"] - t["lower_t"]) / t["emissions_t"] > (u["upper_t"] - u["lower_t"]) / u["emissions_t"]


# ----------------------------------------------------------------------------------------------- see it clearly
def test_facilities_never_exceed_the_sector_and_closed_plants_emit_nothing(client: TestClient):
    """Defect: Houston's top 10 added up to more than the polygon's power sector; closed plants were listed."""
    for region in ("UA0238", "US-TX", "DEU", "CHN"):
        a = client.get(f"/regions/{region}/analysis", params={"top": 100}).json()
        f = a["facilities"]
        assert f["available"], region
        sectors = {s["sector"]: s["emissions_t"] for s in a["sectors"]}
        by: dict[str, float] = {}
        for p in f["operating"]:
            assert p["status"] == "operating" and p["emissions_t"] > 0
            by[p["sector"]] = by.get(p["sector"], 0.0) + p["emissions_t"]
        for s, v in by.items():
            assert v <= sectors[s] * (1 + 1e-9), (region, s)
        values = [p["emissions_t"] for p in f["operating"]]
        assert values == sorted(values, reverse=True)
        for p in f["closed"]:
            assert p["status"] in ("closed", "mothballed") and p["emissions_t"] == 0 and p["t_per_year"] == 0
    deu = client.get("/regions/DEU/analysis", params={"top": 100}).json()["facilities"]
    assert {p["sector"] for p in deu["operating"]} >= {"power", "industry"}  # every facility type, not power only
    assert deu["closed"] and all(p["closed_year"] is None or p["closed_year"] <= 2024 for p in deu["closed"])


def test_a_drawn_polygon_gets_its_own_facilities(client: TestClient):
    """Defect: a drawn Lyon polygon showed France's plants."""
    box = {"type": "Polygon", "coordinates": [[[4.0, 45.0], [6.0, 45.0], [6.0, 46.5], [4.0, 46.5], [4.0, 45.0]]]}
    r = client.post("/emissions/analysis", json={"geometry": box, "top": 50})
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["region"]["type"] == "geometry" and a["region"]["home_country"] == "FRA"
    poly = shapely.geometry.shape(box)
    assert a["facilities"]["operating"]
    assert all(poly.contains(shapely.Point(p["lon"], p["lat"])) for p in a["facilities"]["operating"])
    assert client.post("/emissions/analysis", json={"geometry": {"type": "Point", "coordinates": [1, 2]}}
                       ).status_code == 422


# ----------------------------------------------------------------------------------------------- set the target
@pytest.mark.parametrize(("params", "words"), [
    ({"target_year": 2030, "cut_pct": 50}, "missing: base_year"),
    ({"cut_pct": 50}, "missing: target_year, base_year"),
    ({"target_year": 2020, "cut_pct": 50, "base_year": 2005}, "not in the future"),
    ({"target_year": 2030, "cut_pct": 50, "base_year": 1950}, "outside this region's data"),
    ({"peak_year": 2015}, "in the past"),
    ({"peak_year": 2028, "cut_pct": 50}, "not both"),
    ({"target_pct": 50, "target_year": 2030}, "cut_pct"),
])
def test_bad_targets_are_422_and_say_what_to_change(client: TestClient, params: dict, words: str):
    r = client.get("/regions/DEU/analysis", params=params)
    assert r.status_code == 422 and words in r.json()["detail"], r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_cut_target_is_a_cut_and_base_now_is_not_on_track(client: TestClient):
    """Defect: target_pct=50 meant +50%, and with base year = the data's year the answer was always on track."""
    t = client.get("/regions/DEU/analysis", params={"target_year": 2030, "cut_pct": 50, "base_year": 1990}
                   ).json()["target"]
    base = float(gcb_series("DEU")[1990])
    assert t["base_t"] == pytest.approx(base) and t["target_t"] == pytest.approx(base / 2)
    now = float(gcb_series("DEU")[2024])
    assert t["now_year"] == 2024 and t["now_t"] == pytest.approx(now)
    assert t["required_annual_change_pct"] == pytest.approx(((base / 2 / now) ** (1 / 6) - 1) * 100)
    t2 = client.get("/regions/IND/analysis", params={"target_year": 2030, "cut_pct": 10, "base_year": 2024}
                    ).json()["target"]
    assert t2["on_track"] is False and t2["met"] is False and t2["gap_at_target_year_t"] > 0
    p = client.get("/regions/IND/analysis", params={"peak_year": 2030}).json()["target"]
    assert p["kind"] == "peak" and p["required_slowdown_pp_per_year"] > 0 and not p["met"]


# ----------------------------------------------------------------------------------------------- roadmap
def test_pathway_reaches_the_target_and_exports_csv(client: TestClient):
    q = {"target_year": 2035, "cut_pct": 80, "base_year": 1990}
    r = client.get("/regions/DEU/pathway", params=q)
    assert r.status_code == 200, r.text
    p = r.json()
    assert [y["year"] for y in p["years"]] == list(range(2024, 2036))
    assert p["years"][-1]["total_t"] == pytest.approx(p["target_t"]) and p["reaches_target"]
    assert p["target_t"] == pytest.approx(float(gcb_series("DEU")[1990]) * 0.2)
    easy = client.get("/regions/DEU/pathway", params={**q, "cut_pct": 20}).json()  # the trend alone gets there
    assert easy["reaches_target"] and easy["years"][-1]["total_t"] <= easy["target_t"]
    assert easy["gap_to_trend_t"] == pytest.approx(0.0, abs=1e-3)
    for y in p["years"]:
        assert sum(y["sectors"].values()) == pytest.approx(y["total_t"])
    assert p["cumulative_t"] == pytest.approx(sum(y["total_t"] for y in p["years"][1:]))
    assert set(p["required_annual_change_pct"]) >= {"power", "industry", "ground_transport", "residential"}
    csv = client.get("/regions/DEU/pathway", params={**q, "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "dataset,release,region,year,sector,pathway_t,trend_t"
    assert len(lines) == 1 + len(p["years"]) * (len(p["years"][0]["sectors"]) + 1)
    assert "attachment" in csv.headers["content-disposition"]


def test_pathway_levers_and_their_limits(client: TestClient):
    q = {"target_year": 2035, "cut_pct": 0, "base_year": 2024}
    base = client.get("/regions/DEU/pathway", params=q).json()
    lev = client.get("/regions/DEU/pathway", params={**q, "electric_share_road": 50, "building_heat_demand_pct": -30,
                                                     "coal_share_power": 5}).json()
    assert {e["lever"] for e in lev["levers"]} == {"electric_share_road", "building_heat_demand_pct",
                                                   "coal_share_power"}
    last0, last1 = base["years"][-1]["sectors"], lev["years"][-1]["sectors"]
    assert last1["ground_transport"] < last0["ground_transport"] and last1["residential"] < last0["residential"]
    assert lev["years"][-1]["total_t"] <= base["years"][-1]["total_t"]
    for bad, words in (({"electric_share_road": 150}, "between 0 and 100"), ({"coal_share_power": 99}, "at most"),
                       ({}, None)):
        r = client.get("/regions/DEU/pathway", params={**q, **bad} if words else {})
        assert r.status_code == 422
        assert (words or "needs a target") in r.json()["detail"]
    sub = client.get("/regions/CN-GD/pathway", params={"peak_year": 2028, "industry_energy_intensity_pct": -20})
    assert sub.status_code == 200, sub.text
    assert sub.json()["region"]["home_country"] == "CHN" and sub.json()["implied_peak_year"] <= 2028


def test_openapi_documents_the_analysis_endpoints_with_examples(client: TestClient):
    spec = client.get("/openapi.json").json()
    for path, method in (("/regions/{region_id}/analysis", "get"), ("/emissions/analysis", "post"),
                         ("/regions/{region_id}/pathway", "get"), ("/emissions/pathway", "post")):
        op = spec["paths"][path][method]
        ok = op["responses"]["200"]["content"]
        assert any("example" in c or "examples" in c for c in ok.values()), path
        assert "application/problem+json" in op["responses"]["422"]["content"], path
    params = {p["name"] for p in spec["paths"]["/regions/{region_id}/pathway"]["get"]["parameters"]}
    assert {"peak_year", "target_year", "cut_pct", "base_year", "coal_share_power", "electric_share_road",
            "industry_energy_intensity_pct", "building_heat_demand_pct", "format"} <= params


def test_catalogue_regions_resolve(client: TestClient):
    cat = load_catalogue(Settings().data_dir, Settings().cache_dir)
    assert cat.get("UA0238")["iso3"] == "USA"
    r = client.get("/regions/NOPE99/analysis")
    assert r.status_code in (404, 422)
