"""nowcast.region_facilities: selection in countries and polygons, ranking, scaling to the region's sector
totals, closed plants (test data: a small hand-made facility table)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely.geometry

from carbonmap import contract as cc
from nowcast import region_facilities as rf

COUNTRIES = ("DEU", "FRA")
P, I = cc.SECTORS.index("power"), cc.SECTORS.index("industry")


def table() -> pd.DataFrame:
    rows = [  # name, iso3, sector, lon, lat, share, status, co2_t_per_yr, closed_year
        ("big coal", "DEU", "power", 6.5, 51.0, 0.30, "operating", 2.0e7, np.nan),
        ("small gas", "DEU", "power", 13.4, 52.5, 0.05, "operating", 1.0e6, np.nan),
        ("steel", "DEU", "industry", 6.8, 51.4, 0.20, "operating", 5.0e6, np.nan),
        ("old coal", "DEU", "power", 7.0, 51.5, 0.0, "closed", 8.0e6, 2017),
        ("mothballed", "DEU", "power", 7.1, 51.6, 0.0, "mothballed", np.nan, np.nan),
        ("lyon plant", "FRA", "industry", 4.8, 45.7, 0.50, "operating", 1.0e6, np.nan),
        ("nowhere", "ZZZ", "power", 0.0, 0.0, 0.9, "operating", 1.0e6, np.nan),
    ]
    f = pd.DataFrame(rows, columns=["name", "iso3", "sector", "lon", "lat", "share", "status", "co2_t_per_yr",
                                    "closed_year"])
    f["kind"] = "test"
    f["basis"] = "estimated"
    return f


def national() -> np.ndarray:
    """(sector, country) t CO2 over the period."""
    n = np.zeros((len(cc.SECTORS), len(COUNTRIES)))
    n[P] = [1.0e8, 2.0e7]
    n[I] = [5.0e7, 4.0e7]
    return n


def test_the_index_places_facilities_on_the_national_axes():
    ix = rf.facility_index(table(), COUNTRIES)
    assert ix.country.tolist() == [0, 0, 0, 0, 0, 1, -1]
    assert ix.sector[:3].tolist() == [P, P, I] and ix.operating.tolist() == [True] * 3 + [False] * 2 + [True] * 2
    assert np.isnan(ix.former[4])


def test_a_country_ranks_its_operating_plants_and_lists_closed_ones_apart():
    ix = rf.facility_index(table(), COUNTRIES)
    totals = {"power": 1.0e8, "industry": 5.0e7}
    a = rf.rank_facilities(ix, rf.in_countries(ix, [0]), national(), 73, totals, 10)
    assert [f.name for f in a.operating] == ["big coal", "steel", "small gas"]
    big = a.operating[0]
    assert big.emissions_t == pytest.approx(3.0e7) and big.share_of_sector == pytest.approx(0.3)
    assert big.t_per_year == pytest.approx(3.0e7 * 365.25 / 73) and big.closed_year is None
    assert [f.name for f in a.closed] == ["old coal", "mothballed"]  # the largest former emitter first
    assert all(f.emissions_t == 0 and f.t_per_year == 0 for f in a.closed)
    assert a.closed[0].closed_year == 2017 and a.closed[0].former_t_per_year == 8.0e6
    assert a.closed[1].former_t_per_year is None and not a.scaled and a.available
    top = rf.rank_facilities(ix, rf.in_countries(ix, [0]), national(), 73, totals, 1)
    assert len(top.operating) == 1 and len(top.closed) == 1


def test_facilities_never_add_up_to_more_than_the_regions_sector():
    ix = rf.facility_index(table(), COUNTRIES)
    box = shapely.geometry.box(6.0, 50.5, 7.5, 52.0)  # big coal, steel, old coal inside; not small gas
    mask = rf.in_polygon(ix, box)
    assert mask.tolist() == [True, False, True, True, True, False, False]
    a = rf.rank_facilities(ix, mask, national(), 73, {"power": 1.5e7, "industry": 5.0e7}, 10)
    assert a.scaled == {"power": 0.5} and "scaled down" in a.note and "power" in a.note
    assert a.operating[0].name == "big coal" and a.operating[0].emissions_t == pytest.approx(1.5e7)
    assert a.operating[0].share_of_sector == pytest.approx(1.0)


def test_the_world_takes_every_facility_but_those_outside_the_national_table():
    ix = rf.facility_index(table(), COUNTRIES)
    a = rf.rank_facilities(ix, rf.in_countries(ix, None), national(), 73, {"power": 2e8, "industry": 2e8}, 10)
    assert "nowhere" not in [f.name for f in a.operating] and len(a.operating) == 4
    assert not rf.no_facilities().available and "rebuild" in rf.no_facilities().note
