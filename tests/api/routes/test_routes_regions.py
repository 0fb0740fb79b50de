"""GET /regions/{iso3}/emissions: sums equal the Zarr national table; CSV; the error matrix."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fastapi.testclient import TestClient

from api.app import create_app
from api.national_series import Z90
from carbonmap import contract as cc

from ..conftest import MULTI_COUNTRIES, MULTI_ID


@pytest.fixture(scope="module")
def national(multi_cube) -> xr.Dataset:
    """The national table read straight from the Zarr store (not through the API code)."""
    return xr.open_zarr(multi_cube, chunks=None)[[cc.NATIONAL_VAR, cc.NATIONAL_UNC_VAR]].load()


def _get(client, iso3, **params):
    return client.get(f"/regions/{iso3}/emissions", params={"dataset": MULTI_ID, **params})


def test_country_monthly_sums_equal_the_national_table(client, national):
    r = _get(client, "AAA", start="2023-12-25", end="2024-02-03", freq="month", sectors="power,industry")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region"]["id"] == "AAA" and body["region"]["type"] == "country"
    assert "national inventory territory" in body["region"]["definition"]
    assert body["units"] == "t CO2" and body["sectors"] == ["power", "industry"]
    assert [p["period"] for p in body["periods"]] == ["2023-12", "2024-01", "2024-02"]
    assert [p["days"] for p in body["periods"]] == [7, 31, 3]
    assert (body["periods"][0]["start"], body["periods"][-1]["end"]) == ("2023-12-25", "2024-02-03")
    aaa = national[cc.NATIONAL_VAR].sel(country="AAA")
    for p in body["periods"]:
        window = aaa.sel(time=slice(p["start"], p["end"]))
        for sector in ("power", "industry"):
            expected = float(window.sel(sector=sector).sum()) / 1000
            assert p["sectors"][sector]["emissions"] == pytest.approx(expected, rel=1e-12)
        assert p["total"]["emissions"] == pytest.approx(
            float(window.sel(sector=["power", "industry"]).sum()) / 1000, rel=1e-12)


def test_country_interval_adds_sigmas_over_days_and_sectors(client, national):
    body = _get(client, "BBB", start="2024-01-01", end="2024-01-31", freq="year").json()
    (period,) = body["periods"]
    sel = {"country": "BBB", "time": slice("2024-01-01", "2024-01-31")}
    e = national[cc.NATIONAL_VAR].sel(sel)
    sigma = (e * national[cc.NATIONAL_UNC_VAR].sel(sel)).sum() / 1000  # fully correlated within a country
    est = float(e.sum()) / 1000
    assert period["total"]["emissions"] == pytest.approx(est, rel=1e-12)
    assert period["total"]["upper"] == pytest.approx(est + Z90 * float(sigma), rel=1e-6)
    assert period["total"]["lower"] == pytest.approx(max(0.0, est - Z90 * float(sigma)), rel=1e-6)


def test_world_is_all_countries_plus_bunkers_with_independent_countries(client, national):
    body = _get(client, "wld", freq="year").json()
    assert body["region"]["type"] == "world" and body["region"]["id"] == "WLD"
    assert [p["period"] for p in body["periods"]] == ["2023", "2024"]
    e = national[cc.NATIONAL_VAR]
    for p in body["periods"]:
        window = e.sel(time=slice(p["start"], p["end"]))
        assert p["total"]["emissions"] == pytest.approx(float(window.sum()) / 1000, rel=1e-12)
        shipping = window.sel(sector="international_shipping")
        assert p["sectors"]["international_shipping"]["emissions"] == pytest.approx(
            float(shipping.sum()) / 1000, rel=1e-12)
        rel = national[cc.NATIONAL_UNC_VAR].sel(time=slice(p["start"], p["end"]))
        per_country = (window * rel).sum(dim=("time", "sector")) / 1000
        assert per_country.sizes["country"] == len(MULTI_COUNTRIES)
        expected_sigma = float(np.sqrt((per_country**2).sum()))
        assert (p["total"]["upper"] - p["total"]["emissions"]) / Z90 == pytest.approx(expected_sigma, rel=1e-6)


def test_bunkers_are_regions_of_their_own(client, national):
    body = _get(client, "XIA", freq="year", sectors="international_aviation").json()
    assert body["region"]["type"] == "international"
    total = sum(p["total"]["emissions"] for p in body["periods"])
    assert total == pytest.approx(float(national[cc.NATIONAL_VAR].sel(country="XIA").sum()) / 1000, rel=1e-12)


def test_daily_default_and_default_dataset(client, registry):
    body = client.get("/regions/AAA/emissions").json()  # default dataset, whole range, daily
    cube = registry.get(registry.default_id)
    assert body["dataset"] == registry.default_id and body["freq"] == "day"
    assert len(body["periods"]) == len(cube.times) and all(p["days"] == 1 for p in body["periods"])
    assert body["sectors"] == list(cc.SECTORS)


def test_csv_by_format_and_by_accept_match_json(client):
    params = {"start": "2024-01-01", "end": "2024-01-10", "freq": "day", "sectors": "power,residential"}
    as_json = _get(client, "AAA", **params).json()
    for r in (_get(client, "AAA", format="csv", **params),
              client.get("/regions/AAA/emissions", params={"dataset": MULTI_ID, **params},
                         headers={"Accept": "text/csv"})):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert len(rows) == 10 * 3  # 10 days x (2 sectors + total)
        by_key = {(row["period"], row["sector"]): row for row in rows}
        for p in as_json["periods"]:
            for sector, est in [*p["sectors"].items(), ("total", p["total"])]:
                row = by_key[(p["period"], sector)]
                assert float(row["emissions_t"]) == est["emissions"]
                assert float(row["lower_t"]) == est["lower"] and float(row["upper_t"]) == est["upper"]
                assert row["region"] == "AAA" and row["dataset"] == MULTI_ID
    browsers = client.get("/regions/AAA/emissions", params={"dataset": MULTI_ID},
                          headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browsers.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(("iso3", "params", "status", "needles"), [
    ("AAB", {}, 404, ["'AAB'", "AAA", "WLD"]),                                 # unknown country, close codes
    ("US1", {}, 422, ["'iso3'", "alpha-3"]),                                   # malformed code
    ("AAA", {"sectors": "power,cars"}, 422, ["'cars'", "ground_transport"]),   # unknown sector lists sectors
    ("AAA", {"start": "2024-01-05", "end": "2024-01-01"}, 422, ["before start"]),
    ("AAA", {"start": "2023-01-01", "end": "2023-01-05"}, 404, ["2023-12-20 to 2024-02-05"]),
    ("AAA", {"start": "2024-01-01", "end": "2024-03-01"}, 404, ["2024-03-01", "2024-02-05"]),
    ("AAA", {"start": "2024-02-30"}, 422, ["'start'", "YYYY-MM-DD"]),
    ("AAA", {"start": "0001-01-01"}, 404, ["start 0001-01-01", "2023-12-20 to 2024-02-05"]),
    ("AAA", {"end": "9999-12-31"}, 404, ["end 9999-12-31", "2023-12-20 to 2024-02-05"]),
    ("AAA", {"freq": "week"}, 422, ["'freq'", "month"]),
    ("AAA", {"format": "xml"}, 422, ["'format'", "csv"]),
    ("AAA", {"dataset": "nope"}, 404, ["'nope'", MULTI_ID]),
    ("AAA", {"dataset": "../../etc"}, 422, ["'dataset'"]),
])
def test_error_matrix(client, iso3, params, status, needles):
    r = client.get(f"/regions/{iso3}/emissions", params={"dataset": MULTI_ID, **params})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    detail = r.json()["detail"]
    for needle in needles:
        assert needle in detail, (needle, detail)


def test_periods_longer_than_the_limit_are_refused_with_advice(registry, api_settings):
    max_days = 12
    client = TestClient(create_app(registry, api_settings.model_copy(update={"max_query_days": max_days})))
    start = pd.Timestamp("2023-12-20")
    end = start + pd.Timedelta(days=max_days)  # max_days + 1 days inclusive
    r = _get(client, "AAA", start=start.date().isoformat(), end=end.date().isoformat())
    assert r.status_code == 422 and r.json()["type"].endswith("query-too-large")
    assert str(max_days) in r.json()["detail"] and "split" in r.json()["detail"]
    ok = _get(client, "AAA", start=start.date().isoformat(),
              end=(end - pd.Timedelta(days=1)).date().isoformat(), freq="year")
    assert ok.status_code == 200 and sum(p["days"] for p in ok.json()["periods"]) == max_days
