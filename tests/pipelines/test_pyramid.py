"""pipelines/pyramid.py: levels conserve mass, month/year steps are means, updates, sealing."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr

from carbonmap import contract as cc
from carbonmap.storage import pyramid as SP
from pipelines import pyramid as P
from pipelines import store
from tests.tiles.conftest import write_random_cube


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 degree random cube over 2023-12-30 .. 2024-01-02: two months and two years, with its pyramid."""
    path = write_random_cube(tmp_path_factory.mktemp("pyr") / "cube.zarr", start="2023-12-30", days=4,
                             dataset_id="pyr-test", seed=3)
    P.build_pyramid(path)
    return path


def cube_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    g = zarr.open_group(path, mode="r")
    return np.asarray(g[cc.EMISSIONS_VAR][:], np.float64), np.asarray(g[cc.UNCERTAINTY_VAR][:], np.float64)


def opened(path: Path) -> SP.Pyramid:
    attrs = dict(zarr.open_group(path, mode="r").attrs)
    pyr = SP.open_pyramid(path, P.cube_version_of(attrs))
    assert pyr is not None
    return pyr


def read_all(pyr: SP.Pyramid, freq: str, level: int, variable: str) -> np.ndarray:
    """(step, layer, lat, lon) float64 as the tile server reads it (daily level 0 from the cube)."""
    n = len(pyr.meta.steps[freq])
    return np.stack([pyr.field(freq, level, variable, t) for t in range(n)]).astype(np.float64)


def test_level_grids_halve_while_they_can() -> None:
    assert [g.resolution for g in P.level_grids(cc.Grid(0.1))] == pytest.approx([0.1, 0.2, 0.4, 0.8])
    assert [g.resolution for g in P.level_grids(cc.Grid(0.25))] == pytest.approx([0.25, 0.5, 1.0, 2.0])
    assert [g.resolution for g in P.level_grids(cc.Grid(5.0))] == [5.0]


def test_block_sum_and_masses() -> None:
    a = np.arange(16.0).reshape(1, 4, 4)
    np.testing.assert_array_equal(P.block_sum(a, 2)[0], [[10, 18], [42, 50]])
    f32 = np.full((2, 4, 4), 1.0e8 + 1, np.float32)
    assert P.block_sum(f32, 2, np.float64).dtype == np.float64
    em = np.random.default_rng(0).random((7, 4, 6))
    m = P.layer_masses(em)
    assert m.shape == (8, 4, 6)
    np.testing.assert_allclose(m[0], em.sum(axis=0))


def test_level_fields_are_density_and_relative_sigma_of_block_sums() -> None:
    grids = P.level_grids(cc.Grid(0.5))                            # 0.5, 1, 2 degrees
    rng = np.random.default_rng(1)
    mass = rng.lognormal(5, 2, (7, *grids[0].shape)).astype(np.float32)
    mass[:, :40] = 0.0
    sigma = (mass * rng.uniform(0.1, 0.5, mass.shape)).astype(np.float32)
    fields = P.level_fields(mass, sigma, grids, first=1)
    assert len(fields) == 2
    for (dens, rel), g, f in zip(fields, grids[1:], (2, 4), strict=True):
        m = P.block_sum(mass.astype(np.float64), f)
        assert dens.dtype == rel.dtype == np.float32 and dens.shape == (8, *g.shape)
        np.testing.assert_allclose(dens[1:], m / P.area_km2(g)[:, None], rtol=1e-6)
        np.testing.assert_allclose(dens[0], m.sum(axis=0) / P.area_km2(g)[:, None], rtol=1e-6)
        want = np.where(m > 0, P.block_sum(sigma.astype(np.float64), f) / np.where(m > 0, m, 1), 0)
        np.testing.assert_allclose(rel, want, rtol=1e-5)
        assert (rel[:, : 40 // f] == 0).all()


def test_every_level_conserves_the_daily_totals(cube: Path) -> None:
    em, _ = cube_arrays(cube)
    pyr = opened(cube)
    assert len(pyr.grids) == 2       # 1 and 2 degrees
    daily = em.sum(axis=(2, 3))      # (time, sector) kg day-1
    for k, g in enumerate(pyr.grids):
        dens = read_all(pyr, "day", k, cc.EMISSIONS_VAR)        # (time, layer, lat, lon) kg km-2 day-1
        mass = (dens * P.area_km2(g)[None, None, :, None]).sum(axis=(2, 3))
        np.testing.assert_allclose(mass[:, 1:], daily, rtol=2e-6)
        np.testing.assert_allclose(mass[:, 0], daily.sum(axis=1), rtol=2e-6)


def test_daily_level0_is_read_from_the_cube_as_density_not_stored(cube: Path) -> None:
    em, unc = cube_arrays(cube)
    pyr = opened(cube)
    g = pyr.grids[0]
    assert not (cube / "pyramid" / "day" / "0").exists() and (cube / "pyramid" / "day" / "1").is_dir()
    assert (cube / "pyramid" / "month" / "0" / "emissions").is_dir()    # months and years keep level 0
    assert pyr.chunk_shape("day", 0) == zarr.open_group(cube, mode="r")[cc.EMISSIONS_VAR].chunks[2:]
    window = pyr.read("day", 0, cc.EMISSIONS_VAR, 1, 0, slice(10, 50), slice(100, 180))
    np.testing.assert_allclose(window, em[1, :, 10:50, 100:180].sum(axis=0) / P.area_km2(g)[10:50, None],
                               rtol=1e-6)
    dens = read_all(pyr, "day", 0, cc.EMISSIONS_VAR)
    np.testing.assert_allclose(dens[:, 1:] * P.area_km2(g)[None, None, :, None], em, rtol=1e-6)
    np.testing.assert_allclose(read_all(pyr, "day", 0, cc.UNCERTAINTY_VAR), unc, rtol=1e-6, atol=1e-7)


def test_coarse_uncertainty_is_the_emission_weighted_sigma(cube: Path) -> None:
    em, unc = cube_arrays(cube)
    pyr = opened(cube)
    got = read_all(pyr, "day", 1, cc.UNCERTAINTY_VAR)
    sig = P.block_sum(em * unc, 2)
    mass = P.block_sum(em, 2)
    want = np.where(mass > 0, sig / np.where(mass > 0, mass, 1), 0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_month_and_year_steps_are_means_of_the_days(cube: Path) -> None:
    pyr = opened(cube)
    meta = pyr.meta
    assert meta.steps["month"] == ["2023-12", "2024-01"] and meta.steps["year"] == ["2023", "2024"]
    assert meta.n_days["month"] == [2, 2] and meta.n_days["year"] == [2, 2]
    for k in range(len(pyr.grids)):
        days = read_all(pyr, "day", k, cc.EMISSIONS_VAR)
        months = read_all(pyr, "month", k, cc.EMISSIONS_VAR)
        years = read_all(pyr, "year", k, cc.EMISSIONS_VAR)
        np.testing.assert_allclose(months[0], days[:2].mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(months[1], days[2:].mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(years, months, rtol=1e-5)   # one month per year here
    em, unc = cube_arrays(cube)
    want = (em[:2] * unc[:2]).sum(axis=0) / np.where(em[:2].sum(axis=0) > 0, em[:2].sum(axis=0), 1)
    np.testing.assert_allclose(read_all(pyr, "month", 0, cc.UNCERTAINTY_VAR)[0], want, rtol=1e-5, atol=1e-7)


def test_metadata_has_quantiles_and_ranges(cube: Path) -> None:
    meta = opened(cube).meta
    q = meta.quantiles[cc.EMISSIONS_VAR]["total"]
    assert len(q) == 101 and all(a <= b for a, b in itertools.pairwise(q)) and q[0] > 0
    lo, hi = meta.ranges[cc.EMISSIONS_VAR]["power"]
    assert lo < hi and np.log10(lo) == int(np.log10(lo))
    assert meta.ranges[cc.UNCERTAINTY_VAR]["power"] == [0.0, 1.0]


def test_update_rewrites_changed_days_and_their_means(tmp_path: Path) -> None:
    path = write_random_cube(tmp_path / "u.zarr", start="2024-01-30", days=4, dataset_id="upd", seed=5)
    P.build_pyramid(path)
    em, unc = cube_arrays(path)
    em[3] *= 2.0                                   # 2024-02-02 doubles
    store.write_day(path, 3, em[3], unc[3])
    stale = read_all(opened(path), "day", 1, cc.EMISSIONS_VAR)[3]
    P.update_pyramid(path, [dt.date(2024, 2, 2)])
    pyr = opened(path)
    days = read_all(pyr, "day", 1, cc.EMISSIONS_VAR)
    np.testing.assert_allclose(days[3], 2 * stale, rtol=1e-5)
    np.testing.assert_allclose(read_all(pyr, "month", 1, cc.EMISSIONS_VAR)[1], days[2:].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(read_all(pyr, "year", 1, cc.EMISSIONS_VAR)[0], days.mean(axis=0), rtol=1e-5)
    with pytest.raises(P.PyramidError, match="not in the cube"):
        P.update_pyramid(path, ["2025-01-01"])


def test_pyramid_is_tied_to_the_cube_version_and_never_half_written(cube: Path, tmp_path: Path) -> None:
    assert SP.open_pyramid(cube, "some other build") is None
    assert not (cube / "pyramid.building").exists() and (cube / "pyramid" / "zarr.json").exists()
    meta = json.loads((cube / "pyramid" / "zarr.json").read_text())["attributes"][P.META_ATTR]
    assert meta["status"] == cc.STATUS_COMPLETE and meta["units"] == "kg km-2 day-1"
    with pytest.raises(P.PyramidError, match="no carbonmap cube"):
        P.build_pyramid(tmp_path / "missing.zarr")


def test_update_grows_the_steps_when_days_are_appended(tmp_path: Path) -> None:
    old = write_random_cube(tmp_path / "a.zarr", start="2024-01-30", days=3, dataset_id="app", seed=7)
    P.build_pyramid(old)
    new = write_random_cube(tmp_path / "b.zarr", start="2024-01-30", days=5, dataset_id="app", seed=7)
    shutil.copytree(SP.pyramid_path(old), SP.pyramid_path(new))      # the parent release's pyramid
    P.update_pyramid(new, [])                                       # no revised days; 2 appended
    pyr = opened(new)
    assert pyr.meta.steps["day"][-1] == "2024-02-03" and pyr.meta.n_days["month"] == [2, 3]
    em, _ = cube_arrays(new)
    dens = read_all(pyr, "day", 0, cc.EMISSIONS_VAR)
    assert dens.shape[0] == 5
    np.testing.assert_allclose(dens[3:, 1:] * P.area_km2(pyr.grids[0])[None, None, :, None], em[3:], rtol=1e-6)
    np.testing.assert_allclose(read_all(pyr, "month", 0, cc.EMISSIONS_VAR)[1], dens[2:].mean(axis=0), rtol=1e-5)


def test_dask_build_runs_one_task_per_month_with_progress_and_matches_in_process(cube: Path,
                                                                                tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    path = write_random_cube(tmp_path / "d.zarr", start="2023-12-30", days=4, dataset_id="pyr-test", seed=3)
    calls: list[tuple[int, int, str]] = []
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        P.build_pyramid(path, progress=lambda d, n, m: calls.append((d, n, m)), client=client)
        day_calls = [c for c in calls if c[2] == "pyramid: days"]
        assert day_calls[0][:2] == (0, 4) and day_calls[-1][:2] == (4, 4) and len(day_calls) == 3   # 2 months
        ran = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
        assert ran == ["mean_task", "month_task"]     # dask drops the leading underscore
        # days appended to a copy of the pyramid: the grown arrays are written by workers too
        longer = write_random_cube(tmp_path / "e.zarr", start="2023-12-30", days=6, dataset_id="pyr-test", seed=3)
        shutil.copytree(SP.pyramid_path(path), SP.pyramid_path(longer))
        P.update_pyramid(longer, [], client=client)
    got, want = opened(path), opened(cube)                                  # same seed: same field
    for freq, k, var in itertools.product(P.FREQS, range(2), (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR)):
        np.testing.assert_array_equal(read_all(got, freq, k, var), read_all(want, freq, k, var))
    grown = opened(longer)
    assert grown.meta.n_days["month"] == [2, 4]
    em6, _ = cube_arrays(longer)
    dens = read_all(grown, "day", 1, cc.EMISSIONS_VAR)
    mass = (dens * P.area_km2(grown.grids[1])[None, None, :, None]).sum(axis=(2, 3))
    np.testing.assert_allclose(mass[:, 1:], em6.sum(axis=(2, 3)), rtol=2e-6)


# ---- incremental updates in a staged release (what `carbonmap update` does) ------------------

def stored_arrays(cube: Path) -> dict[str, np.ndarray]:
    """Every array the pyramid stores, ``freq/level/variable`` -> values, each read through its own
    metadata (all levels; daily, monthly and yearly steps)."""
    root = SP.pyramid_path(cube)
    out = {}
    for freq, var in itertools.product(P.FREQS, (cc.EMISSIONS_VAR, cc.UNCERTAINTY_VAR)):
        for level in sorted(p.name for p in (root / freq).iterdir() if p.is_dir()):
            out[f"{freq}/{level}/{var}"] = zarr.open_array(store=str(root / freq / level / var), mode="r")[:]
    return out


def files_of(tree: Path) -> dict[str, tuple[int, bytes]]:
    """relative path -> (inode, bytes) of every file under ``tree``."""
    return {str(p.relative_to(tree)): (p.stat().st_ino, p.read_bytes()) for p in sorted(tree.rglob("*"))
            if p.is_file()}


def stage_like_update(parent: Path, path: Path, revise: int | None = None, **cube: object) -> Path:
    """A cube staged as `carbonmap update` stages a release: its own metadata and days (day
    ``revise`` tripled in one sector), the parent's pyramid hard-linked in, then consolidated
    (``store.seal``) while it still holds the parent's pyramid."""
    child = write_random_cube(path, **cube).resolve()   # type: ignore[arg-type]
    if revise is not None:
        revise_day(child, revise)
    src = SP.pyramid_path(parent)
    for f in src.rglob("*"):
        if f.is_file():
            (SP.pyramid_path(child) / f.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            (SP.pyramid_path(child) / f.relative_to(src)).hardlink_to(f)
    zarr.consolidate_metadata(str(child))
    return child


def revise_day(cube: Path, t: int) -> None:
    em, unc = cube_arrays(cube)
    em[t, 2] *= 3.0
    store.write_day(cube, t, em[t], unc[t])
    zarr.consolidate_metadata(str(cube))


def reference(path: Path, revise: int | None = None, **cube: object) -> Path:
    """The same cube with its pyramid built whole."""
    ref = write_random_cube(path, **cube).resolve()     # type: ignore[arg-type]
    if revise is not None:
        revise_day(ref, revise)
    P.build_pyramid(ref)
    return ref


def assert_same_pyramid(got: Path, want: Path) -> None:
    a, b = stored_arrays(got), stored_arrays(want)
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key].shape == b[key].shape, key
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)      # bit for bit
    ma, mb = opened(got).meta, opened(want).meta
    assert (ma.steps, ma.n_days, ma.levels, ma.status) == (mb.steps, mb.n_days, mb.levels, mb.status)
    assert ma.quantiles == mb.quantiles and ma.ranges == mb.ranges


def test_appended_days_across_a_month_and_year_boundary_equal_a_full_rebuild(tmp_path: Path) -> None:
    spec = {"start": "2023-12-29", "dataset_id": "inc", "seed": 11}
    parent = write_random_cube(tmp_path / "parent.zarr", days=3, **spec).resolve()   # 12-29 .. 12-31
    P.build_pyramid(parent)
    before = files_of(SP.pyramid_path(parent))
    child = stage_like_update(parent, tmp_path / "child.zarr", days=6, **spec)       # + 2024-01-01 .. 03
    P.update_pyramid(child, [])
    assert_same_pyramid(child, reference(tmp_path / "ref.zarr", days=6, **spec))
    assert opened(child).meta.steps["month"] == ["2023-12", "2024-01"]
    assert files_of(SP.pyramid_path(parent)) == before            # the parent's bytes and inodes
    pyr, par = SP.pyramid_path(child), SP.pyramid_path(parent)
    for t in range(3):    # the days it already had are still the parent's files, not rewritten
        shard = Path("day/1/emissions/c") / str(t) / "0/0/0"
        assert (pyr / shard).stat().st_ino == (par / shard).stat().st_ino


def test_a_revised_past_day_rewrites_its_day_month_and_year_only(tmp_path: Path) -> None:
    spec = {"start": "2024-01-30", "days": 4, "dataset_id": "rev", "seed": 12}
    parent = write_random_cube(tmp_path / "parent.zarr", **spec).resolve()        # 01-30 .. 02-02
    P.build_pyramid(parent)
    before = files_of(SP.pyramid_path(parent))
    child = stage_like_update(parent, tmp_path / "child.zarr", revise=2, **spec)    # 2024-02-01 revised
    P.update_pyramid(child, [dt.date(2024, 2, 1)])
    assert_same_pyramid(child, reference(tmp_path / "ref.zarr", revise=2, **spec))
    assert files_of(SP.pyramid_path(parent)) == before
    pyr, par = SP.pyramid_path(child), SP.pyramid_path(parent)

    def same(rel: str) -> bool:
        return (pyr / rel).stat().st_ino == (par / rel).stat().st_ino

    assert not same("day/1/emissions/c/2/0/0/0") and not same("month/0/emissions/c/1/0/0/0")
    assert same("day/1/emissions/c/1/0/0/0") and same("day/1/emissions/c/3/0/0/0")
    assert same("month/0/emissions/c/0/0/0/0") and same("month/1/uncertainty/c/0/0/0/0")   # January


def test_grown_pyramid_is_readable_through_every_consolidated_copy(tmp_path: Path) -> None:
    """Regression: the staged cube was consolidated with the parent's 3-step pyramid; after the
    update, reading the new steps through the cube's (or the pyramid's) consolidated metadata must
    not raise BoundsCheckError."""
    spec = {"start": "2024-01-30", "dataset_id": "bounds", "seed": 13}
    parent = write_random_cube(tmp_path / "parent.zarr", days=3, **spec).resolve()
    P.build_pyramid(parent)
    child = stage_like_update(parent, tmp_path / "child.zarr", days=5, **spec)
    stale = zarr.open_group(child, mode="r", use_consolidated=True)["pyramid/day/1/emissions"]
    assert stale.shape[0] == 3                                    # what the sealed release listed
    P.update_pyramid(child, [])
    via_cube = zarr.open_group(child, mode="r", use_consolidated=True)
    via_pyr = zarr.open_group(SP.pyramid_path(child), mode="r", use_consolidated=True)
    for arr in (via_cube["pyramid/day/1/emissions"], via_pyr["day/1/emissions"]):
        assert arr.shape[0] == 5
        assert float(np.asarray(arr[4, 0]).sum()) > 0
    assert via_cube["pyramid/month/0/uncertainty"].shape[0] == via_pyr["month/0/uncertainty"].shape[0] == 2
    np.testing.assert_array_equal(via_pyr["day/1/emissions"][4], stored_arrays(child)["day/1/emissions"][4])


def test_derive_layouts_updates_the_staged_pyramid_incrementally(tmp_path: Path) -> None:
    """`carbonmap update`'s hook: the staged pyramid is updated (not rebuilt) and equals a rebuild;
    one appended day keeps the middle day, so the stored display statistics are reused."""
    from pipelines.build import derive_layouts

    spec = {"start": "2024-02-26", "dataset_id": "derive", "seed": 14}
    parent = write_random_cube(tmp_path / "parent.zarr", days=4, **spec).resolve()
    P.build_pyramid(parent)
    before = files_of(SP.pyramid_path(parent))
    child = stage_like_update(parent, tmp_path / "child.zarr", days=5, **spec)     # + 2024-03-01
    notes = derive_layouts(child, None, lambda d, n, m: None, [dt.date(2024, 3, 1)], parent=parent)
    assert "pyramid.update_pyramid" in notes
    assert_same_pyramid(child, reference(tmp_path / "ref.zarr", days=5, **spec))
    assert files_of(SP.pyramid_path(parent)) == before
    shard = Path("day/1/emissions/c/0/0/0/0")
    assert (SP.pyramid_path(child) / shard).stat().st_ino == (SP.pyramid_path(parent) / shard).stat().st_ino
