"""GCB 2025 extras (CICERO): the 2025 projection and national CO2 by fuel, checked against GCB2025v15."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.activity import COLUMNS, PUBLICATION_LAG_DAYS, published_by
from ingest.base import IngestError
from ingest.gcb import read_gcb
from ingest.gcb_extra import (
    COUNTRY_DIR,
    PROJECTIONS_FILE,
    PUBLISHED,
    GCBExtraAdapter,
    compare_with_gcb,
    read_gcb_country_by_fuel,
    read_gcb_projections,
)


@pytest.fixture(scope="module")
def proj_path(data_dir: Path) -> Path:
    return data_dir / PROJECTIONS_FILE


@pytest.fixture(scope="module")
def country_dir(data_dir: Path) -> Path:
    return data_dir / COUNTRY_DIR


@pytest.fixture(scope="module")
def gcb(data_dir: Path) -> pd.DataFrame:
    return read_gcb(data_dir / "statistical" / "GCB2025v15_MtCO2_flat.csv")


@pytest.fixture(scope="module")
def by_fuel(country_dir: Path) -> pd.DataFrame:
    return read_gcb_country_by_fuel(country_dir)


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_projection_2025(proj_path: Path) -> None:
    df = read_gcb_projections(proj_path)
    assert tuple(df.columns) == COLUMNS
    assert set(df["iso3"]) == {"CHN", "USA", "EU27", "IND", "JPN", "ROW", "XBK"}
    assert (df["period"] == pd.Timestamp("2025-01-01")).all() and (df["frequency"] == "yearly").all()
    assert (df["variable"] == "co2_total_projection").all() and (df["unit"] == "MtCO2").all()
    v = df.set_index("iso3")["value"]
    assert v["CHN"] == pytest.approx(12_309.477) and v["USA"] == pytest.approx(4_986.031)
    assert v["XBK"] == pytest.approx(1_233.106)
    assert v.sum() == pytest.approx(38_870.433)  # the projected world total, GtCO2 x 1000
    assert df.attrs["published"] == "2025-11-13" and df.attrs["history_years"] == "1959-2024"
    assert PUBLISHED == date(2025, 11, 13) and PUBLICATION_LAG_DAYS["gcb_projection"] == 0
    assert published_by(df, "2025-12-31").shape[0] == 7 and published_by(df, "2025-12-30").empty


def test_projection_history_equals_gcb_flat(proj_path: Path, gcb: pd.DataFrame) -> None:
    raw = pd.read_csv(proj_path).set_index("Year")
    g = gcb[gcb["year"] == 2024].set_index("iso3")["total"]
    for col, iso in (("China", "CHN"), ("USA", "USA"), ("India", "IND"), ("Japan", "JPN")):
        assert raw.loc[2024, col] * 1000 == pytest.approx(g[iso], rel=0.005)
    assert raw.loc[2024, "Bunkers"] * 1000 == pytest.approx(g["XIA"] + g["XIS"], rel=0.005)
    assert raw.loc[2024].sum() * 1000 == pytest.approx(g["WLD"], rel=0.005)


def test_country_files(by_fuel: pd.DataFrame) -> None:
    assert tuple(by_fuel.columns) == COLUMNS
    assert by_fuel["iso3"].nunique() == 100 and {"EU27", "WLD", "CHN", "USA"} <= set(by_fuel["iso3"])
    assert set(by_fuel["variable"]) == {"co2_coal", "co2_oil", "co2_gas", "co2_cement"}
    assert by_fuel["period"].min() == pd.Timestamp("1950-01-01")
    assert by_fuel["period"].max() == pd.Timestamp("2024-01-01")
    assert len(by_fuel) == 100 * 75 * 4 and (by_fuel["unit"] == "MtCO2").all()
    v = by_fuel.set_index(["iso3", "period", "variable"])["value"]
    assert v[("CHN", pd.Timestamp("2024-01-01"), "co2_coal")] == pytest.approx(8_886.021)  # file: 8.886021 Gt
    assert v[("USA", pd.Timestamp("1950-01-01"), "co2_coal")] == pytest.approx(1_257.231984)  # file: Mt
    assert PUBLICATION_LAG_DAYS["gcb_country_fuel"] == 317


def test_country_fuels_equal_gcb_2024(by_fuel: pd.DataFrame, gcb: pd.DataFrame) -> None:
    cmp = compare_with_gcb(by_fuel, gcb, 2024)
    assert cmp["iso3"].nunique() == 99  # all but EU27, which the flat file lacks
    assert cmp["rel_diff"].max() < 0.005
    # the four fuels are GCB's Total without flaring and other: equal where a country has neither
    tot = gcb[gcb["year"] == 2024].set_index("iso3")
    four = cmp[cmp["variable"] == "coal_oil_gas_cement"].set_index("iso3")["value"]
    no_extra = tot.index[(tot["flaring"].fillna(0) == 0) & (tot["other"].fillna(0) == 0)].intersection(four.index)
    assert len(no_extra) > 10
    assert ((four[no_extra] - tot.loc[no_extra, "total"]).abs() <= 0.005 * tot.loc[no_extra, "total"] + 1e-3).all()
    assert four["USA"] == pytest.approx(4_707.46, abs=0.01) and tot.loc["USA", "total"] == pytest.approx(4_904.12, abs=0.01)


def test_projection_bad_input(proj_path: Path, tmp_path: Path) -> None:
    lines = proj_path.read_text().splitlines()
    mt = [lines[0], *[",".join([ln.split(",")[0], *[str(float(x) * 1000) for x in ln.split(",")[1:]]])
                      for ln in lines[-3:]]]
    cases = [
        (mt, r"over 60 GtCO2: the file must be in GtCO2"),
        (lines[:-1], r"last year is 2024, expected the projection year 2025"),
        ([lines[0], lines[-3], lines[-1]], r"years must be consecutive"),
        ([lines[0].replace('"India",', '"Indonesia",'), *lines[1:]], r"expected the columns"),
        ([*lines[:-1], lines[-1][:30]], r"truncated file"),
    ]
    for k, (ls, match) in enumerate(cases):
        src = _write(tmp_path / str(k), "Projections.csv", ls)
        out = tmp_path / f"p{k}.parquet"
        a = GCBExtraAdapter()
        with pytest.raises(IngestError, match=match):
            a.write(a.read([src]), out, inputs=[src])
        assert not out.exists()


def test_country_bad_input(country_dir: Path, tmp_path: Path) -> None:
    chn = (country_dir / "CHN_GCB_fossilCO2_data.csv").read_text().splitlines()
    usa = (country_dir / "USA_GCB_fossilCO2_data.csv").read_text().splitlines()
    in_mt = [chn[0], *[",".join([ln.split(",")[0], *[str(float(x) * 1000) for x in ln.split(",")[1:]]])
                       for ln in chn[1:]]]
    with pytest.raises(IngestError, match=r"CHN is published in GtCO2 .* look like MtCO2"):
        read_gcb_country_by_fuel([_write(tmp_path, "CHN_GCB_fossilCO2_data.csv", in_mt)])
    with pytest.raises(IngestError, match=r"'Gas' in 2024 is empty; .*truncated file"):
        read_gcb_country_by_fuel([_write(tmp_path, "USA_GCB_fossilCO2_data.csv", [*usa[:-1], usa[-1][:25]])])
    with pytest.raises(IngestError, match=r"duplicate co2_coal for USA"):
        read_gcb_country_by_fuel([_write(tmp_path, "USA_GCB_fossilCO2_data.csv", usa),
                                  _write(tmp_path / "again", "USA_GCB_fossilCO2_data.csv", usa)])
    with pytest.raises(IngestError, match="expected the columns"):
        read_gcb_country_by_fuel([_write(tmp_path, "USA_GCB_fossilCO2_data.csv",
                                         [usa[0].replace('"Cement"', '"Flaring"'), *usa[1:]])])
    with pytest.raises(IngestError, match="not a GCB country file name"):
        read_gcb_country_by_fuel([_write(tmp_path, "usa.csv", usa)])
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="no <CODE>_GCB_fossilCO2_data.csv files"):
        read_gcb_country_by_fuel(tmp_path / "empty")


def test_adapter_reads_both(proj_path: Path, country_dir: Path) -> None:
    df = GCBExtraAdapter().read([proj_path, country_dir])
    assert set(df["source"]) == {"gcb_projection", "gcb_country_fuel"}
    assert len(df) == 7 + 100 * 75 * 4
    with pytest.raises(IngestError, match="not a GCB extra file"):
        GCBExtraAdapter().read([proj_path.with_name("Top_FF_emitters_abs.csv")])


def test_download_against_local_publisher(publisher, proj_path: Path, country_dir: Path, tmp_cache: Path,
                                          dead_url: str) -> None:
    with pytest.raises(IngestError, match="are you offline"):
        GCBExtraAdapter(projections_url=f"{dead_url}/Projections.csv").download(date(2025, 1, 1), date(2025, 12, 31))
    base, routes, hits = publisher
    p_route = "/robbieandrew/robbieandrew.github.io/0cf3c5b6/GCB2025/data/Projections.csv"
    routes[("GET", p_route)] = lambda q, h, b: (200, "text/csv", proj_path.read_bytes())
    routes[("GET", "/country/CHN_GCB_fossilCO2_data.csv")] = lambda q, h, b: (
        200, "text/csv", (country_dir / "CHN_GCB_fossilCO2_data.csv").read_bytes())
    a = GCBExtraAdapter(projections_url=base + p_route)
    with pytest.raises(IngestError, match="pass country_base_url"):
        a.download(date(2025, 1, 1), date(2025, 12, 31), codes=["CHN"])
    paths = GCBExtraAdapter(country_base_url=f"{base}/country", projections_url=base + p_route).download(
        date(2025, 1, 1), date(2025, 12, 31), codes=["CHN"])
    assert [p.name for p in paths] == ["Projections.csv", "CHN_GCB_fossilCO2_data.csv"]
    assert all(p.is_relative_to(tmp_cache / "downloads" / "gcb_extra") for p in paths)
    assert len(hits) == 2  # Projections.csv once (then cached), CHN once
    df = a.read(paths)
    assert len(df) == 7 + 75 * 4
