"""Per-sector weights from the real shipped inputs: plants first, JRC reported CO2, optional NO2."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from carbonmap import contract as cc
from nowcast.baseline import regions_of
from nowcast.downscale import POWER_RULES
from nowcast.facilities import MAX_POINT_SCALE
from nowcast.proxies import URBAN_UPLIFT, plant_emissions
from pipelines.inputs import BuildInputs, load_inputs
from pipelines.weights import GridWeights, build_weights, power_annual_totals, urban_share

GRID = cc.Grid(2.0, -180.0, -90.0, 180.0, 90.0)


@pytest.fixture(scope="module")
def inputs() -> BuildInputs:
    return load_inputs()


@pytest.fixture(scope="module")
def weights(inputs: BuildInputs) -> GridWeights:
    return build_weights(inputs, GRID, regions_of(inputs.gcb))


def test_every_emitting_power_column_sums_to_one_and_rules_are_recorded(inputs: BuildInputs,
                                                                       weights: GridWeights) -> None:
    total = power_annual_totals(inputs, weights.regions)
    col = np.asarray(weights.matrices["power"].sum(axis=0)).ravel()
    np.testing.assert_allclose(col[total > 0], 1.0, rtol=1e-12)
    assert set(weights.power_rules) == set(weights.regions)
    assert set(weights.power_rules.values()) <= set(POWER_RULES)
    # big fossil fleets exist in these countries; a country without a plant falls back to population
    for iso in ("USA", "CHN", "IND", "DEU", "POL"):
        assert weights.power_rules[iso] in ("plants_then_residual", "plants_scaled_down")
    assert "plants_then_residual" in weights.methods["power_placement"]


def test_plants_receive_their_calibrated_estimate_and_the_residual_is_the_rest(inputs: BuildInputs,
                                                                               weights: GridWeights) -> None:
    assert inputs.spatial is not None and inputs.spatial.power_points is not None
    total = power_annual_totals(inputs, weights.regions)
    plants = inputs.spatial.power_points.groupby("iso3")["co2_kg_per_yr"].sum()
    # the US power sector sits on its GHGRP-reported plants, all of it
    assert weights.power_rules["USA"] in ("plants_scaled_down", "plants_only")
    # a country whose plants, even scaled up by MAX_POINT_SCALE, fall short: plants get that, population the rest
    short = [r for r in weights.regions if weights.power_rules[r] == "plants_then_residual" and r in plants.index]
    assert short, "some country's plant table must fall short of its power total"
    code = max(short, key=lambda r: total[weights.regions.index(r)])
    j = weights.regions.index(code)
    placed = min(MAX_POINT_SCALE * plants[code], total[j])
    assert 0 < placed < total[j]
    column = weights.matrices["power"][:, j].toarray().ravel()
    assert column.sum() == pytest.approx(1.0, rel=1e-12)
    only = build_weights(inputs, GRID, weights.regions, power_annual=np.where(total > 0, 1.0, 0.0))
    assert only.power_rules[code] == "plants_scaled_down"
    plants_only = only.matrices["power"][:, j].toarray().ravel()
    residual = column - plants_only * (placed / total[j])  # = (1 - placed/T) x population column
    assert residual.min() >= -1e-12
    assert residual.sum() == pytest.approx(1.0 - placed / total[j], rel=1e-9)


def test_industry_sits_on_steel_cement_and_reported_facilities_first(inputs: BuildInputs,
                                                                     weights: GridWeights) -> None:
    assert weights.levels["industry"][weights.regions.index("CHN")] == 0  # "points" first
    from pipelines.weights import sector_annual_totals

    total = sector_annual_totals(inputs, weights.regions, "industry")
    pts = inputs.spatial.industry_points  # type: ignore[union-attr]
    cn = pts[pts["iso3"] == "CHN"]["co2_kg_per_yr"].sum()
    j = weights.regions.index("CHN")
    assert 0.2 * total[j] < cn < total[j]  # steel and cement are a large part of China's industry, not all
    column = weights.matrices["industry"][:, j].toarray().ravel()
    assert column.sum() == pytest.approx(1.0, rel=1e-12)


def test_jrc_reported_co2_replaces_gppd_estimates_in_europe(inputs: BuildInputs) -> None:
    merged = plant_emissions(inputs.plants, inputs.jrc_plants)
    only_gppd = plant_emissions(inputs.plants, None)
    assert merged.attrs["gppd_replaced_by_jrc"] > 0
    de = merged[merged["iso3"] == "DEU"]
    assert (de["basis"] == "reported").sum() > 10
    reported = inputs.jrc_plants
    expect = reported[(reported["iso3"] == "DEU") & reported["lat"].notna() & (reported["co2_kg_per_yr"] > 0)]
    assert de.loc[de["basis"] == "reported", "co2_kg_per_yr"].sum() == pytest.approx(expect["co2_kg_per_yr"].sum())
    # outside Europe nothing changes
    assert merged[merged["iso3"] == "USA"]["co2_kg_per_yr"].sum() == pytest.approx(
        only_gppd[only_gppd["iso3"] == "USA"]["co2_kg_per_yr"].sum())


def test_optional_no2_reweighting_keeps_totals_and_moves_weight(inputs: BuildInputs, weights: GridWeights) -> None:
    # a synthetic ratio field: NO2 doubled over the northern half of the grid
    ratio = np.ones(GRID.nlat * GRID.nlon)
    ratio[: GRID.nlat // 2 * GRID.nlon] = 2.0
    rw = build_weights(inputs, GRID, weights.regions, no2_ratio=ratio, no2_alpha=1.0)
    assert weights.methods["no2_reweighting"].startswith("off")
    assert "alpha 1.0" in rw.methods["no2_reweighting"]
    for sector in ("power", "industry", "ground_transport", "residential"):
        before = np.asarray(weights.matrices[sector].sum(axis=0)).ravel()
        after = np.asarray(rw.matrices[sector].sum(axis=0)).ravel()
        np.testing.assert_allclose(after[before > 0], 1.0, rtol=1e-12)
    # untouched sectors are identical
    assert (rw.matrices["international_shipping"] != weights.matrices["international_shipping"]).nnz == 0
    # a country straddling the equator (Brazil) moves residential weight north
    j = weights.regions.index("BRA")
    north = slice(0, GRID.nlat // 2 * GRID.nlon)
    assert rw.matrices["residential"][north, j].sum() > weights.matrices["residential"][north, j].sum()


def test_ground_transport_weighs_an_urban_cell_above_a_rural_cell_of_equal_population(inputs: BuildInputs) -> None:
    grid = cc.Grid(1.0)  # population_on_grid keeps the 1 degree counts as they are
    flat = dataclasses.replace(inputs, population=np.full((180, 360), 1000.0))  # equal population everywhere
    regions = regions_of(inputs.gcb)
    w = build_weights(flat, grid, regions)
    u = urban_share(flat, grid)
    assert u is not None and 0 < u.max() <= 1.0
    # cells of Germany that no other country touches (land share 1): weights differ only by the uplift
    cov = flat.coverage(grid)
    deu = cov.index("DEU")
    shared = np.bincount(cov.cell, minlength=grid.nlat * grid.nlon) > 1
    own = np.unique(cov.cell[(cov.region == deu) & ~shared[cov.cell]])
    urban_cell = own[np.argmax(u[own])]
    rural = own[u[own] == 0]
    assert u[urban_cell] > 0.1 and rural.size
    j = regions.index("DEU")
    for sector in ("ground_transport", "residential"):
        col = w.matrices[sector][:, j].toarray().ravel()
        assert col.sum() == pytest.approx(1.0, rel=1e-12)
        k = URBAN_UPLIFT[sector]
        assert col[urban_cell] > col[rural[0]]
        assert col[urban_cell] / col[rural[0]] == pytest.approx(1.0 + k * u[urban_cell], rel=1e-9)
    # without urban areas, equal population means equal weight; industry has k = 0 and does not move
    plain = build_weights(dataclasses.replace(flat, urban=None), grid, regions)
    col = plain.matrices["ground_transport"][:, j].toarray().ravel()
    assert col[urban_cell] == pytest.approx(col[rural[0]], rel=1e-12)
    assert (plain.matrices["industry"] != w.matrices["industry"]).nnz == 0
    assert "ground_transport 1" in w.methods["urban_uplift"]
    assert plain.methods["urban_uplift"].startswith("off")
    assert "urban share" in w.methods["proxy_ground_transport"]
    assert "urban" not in plain.methods["proxy_ground_transport"]
