"""India daily grid data (Grid-India/POSOCO, CICERO's coal split, CEA DGR): shipped files and broken copies."""

from __future__ import annotations

import gzip
import logging
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.activity import COLUMNS, PUBLICATION_LAG_DAYS, published_by
from ingest.base import IngestError
from ingest.india_grid import (
    CEADGRAdapter,
    POSOCOAdapter,
    read_cea_dgr,
    read_posoco_coal_total,
    read_posoco_daily,
)

DIR = "electricity/india-daily"
POSOCO = f"{DIR}/POSOCO_data.csv.gz"
COAL = f"{DIR}/POSOCO_coal_total_data.csv"
CEA = f"{DIR}/CEA_DGR_data.csv"
REGIONS = ("NR", "WR", "SR", "ER", "NER")


@pytest.fixture(scope="module")
def posoco(data_dir: Path) -> pd.DataFrame:
    return read_posoco_daily(data_dir / POSOCO)


@pytest.fixture(scope="module")
def cea(data_dir: Path) -> pd.DataFrame:
    return read_cea_dgr(data_dir / CEA)


def series(t: pd.DataFrame, variable: str, region: str = "") -> pd.Series:
    s = t[(t["variable"] == variable) & (t["region"] == region)]
    return s.set_index("period")["value"]


def posoco_cut(data_dir: Path, tmp_path: Path, start: str, end: str) -> tuple[Path, pd.DataFrame]:
    """Header and the real rows ``start``..``end`` (YYYYMMDD) of the shipped daily file, as text."""
    with gzip.open(data_dir / POSOCO, "rt") as f:
        lines = f.read().splitlines()
    keep = [lines[0]] + [l for l in lines[1:] if start <= l[:8] <= end]
    p = tmp_path / "POSOCO_data.csv"
    p.write_text("\n".join(keep) + "\n")
    return p, pd.read_csv(p, dtype=str)


def test_posoco_schema_span_and_regions(posoco: pd.DataFrame) -> None:
    assert list(posoco.columns) == list(COLUMNS)
    assert set(posoco["iso3"]) == {"IND"} and set(posoco["unit"]) == {"GWh"} and set(posoco["frequency"]) == {"daily"}
    assert set(posoco["region"]) == {"", *REGIONS}
    assert posoco["period"].min() == pd.Timestamp("2013-01-02")
    assert posoco["period"].max() == pd.Timestamp("2026-08-21")
    d = series(posoco, "demand")
    assert len(d) == 4_869 and d.max() == pytest.approx(6_002.3) and d.idxmax() == pd.Timestamp("2026-07-16")
    assert d.min() == pytest.approx(2_251.0)
    assert d[d.index.year == 2025].sum() == pytest.approx(1_707_534.48, abs=0.01) and (d.index.year == 2025).sum() == 365
    regions = sum(series(posoco, "demand", r) for r in REGIONS)
    assert ((regions / d - 1).abs().dropna() < 0.02).all()
    assert PUBLICATION_LAG_DAYS["posoco"] == 2 and PUBLICATION_LAG_DAYS["cea_dgr"] == 2
    assert published_by(posoco, "2026-08-22")["period"].max() == pd.Timestamp("2026-08-20")


def test_posoco_coal_is_coal_plus_lignite_then_thermal(data_dir: Path, posoco: pd.DataFrame) -> None:
    coal = series(posoco, "generation_coal")
    thermal = series(posoco, "generation_thermal")
    assert thermal.index.min() == pd.Timestamp("2017-08-28") and thermal.index.max() == pd.Timestamp("2018-11-28")
    assert len(thermal) == 458 and (coal[thermal.index] == thermal).all()
    cicero = series(read_posoco_coal_total(data_dir / COAL), "generation_coal")
    assert len(cicero) == 2_821 and cicero.index.min() == pd.Timestamp("2018-11-29")
    common = cicero.index.intersection(coal.index)
    assert len(common) == 2_818 and (coal[common] - cicero[common]).abs().max() < 1e-6
    # the three days missing are the transcription typos the reader drops (all-India lignite)
    assert set(cicero.index.difference(coal.index).strftime("%Y-%m-%d")) == {"2018-12-11", "2018-12-12", "2024-07-14"}
    assert coal[coal.index.year == 2023].sum() == pytest.approx(1_293_179.69, abs=0.01)


def test_posoco_typos_are_dropped_and_counted(posoco: pd.DataFrame) -> None:
    assert posoco.attrs["flagged"] == 18
    assert posoco.attrs["flagged_by_reason"]["outside all-India bounds"] == 2
    # all-India lignite 35 GWh on 2018-12-11/12 while the regions report ~85: only the all-India value goes
    assert posoco.attrs["flagged_by_reason"]["all India disagrees with its regions"] == 2
    assert pd.Timestamp("2018-12-11") in series(posoco, "generation_coal", "SR").index
    assert pd.Timestamp("2024-06-22") not in series(posoco, "generation_nuclear").index  # 402 GWh: impossible
    assert pd.Timestamp("2024-06-21") in series(posoco, "generation_nuclear").index
    ren = series(posoco, "generation_renewables")
    hydro = series(posoco, "generation_hydro")
    assert (ren >= hydro[ren.index]).all()  # renewables = large hydro + RES
    assert series(posoco, "generation_hydro").index.min() == pd.Timestamp("2013-01-02")  # table A before table G


def test_cea_dgr(data_dir: Path, cea: pd.DataFrame, posoco: pd.DataFrame) -> None:
    assert list(cea.columns) == list(COLUMNS) and set(cea["source"]) == {"cea_dgr"}
    assert cea["period"].min() == pd.Timestamp("2018-04-01") and cea["period"].max() == pd.Timestamp("2026-08-20")
    assert series(cea, "generation_thermal").index.max() == pd.Timestamp("2026-08-19")
    assert series(cea, "generation_solar").index.min() == pd.Timestamp("2019-07-01")
    c23 = series(cea, "generation_coal")
    c23 = c23[c23.index.year == 2023]
    assert len(c23) == 365 and c23.sum() == pytest.approx(1_263_770.47, abs=0.01)
    p23 = series(posoco, "generation_coal")
    assert abs(c23.sum() / p23[p23.index.year == 2023].sum() - 1) < 0.03  # two reports of the same plants
    raw = pd.read_csv(data_dir / CEA)
    row = raw[raw["yyyymmdd"] == 20240115].iloc[0]
    v = cea[cea["period"] == "2024-01-15"].set_index("variable")["value"]
    assert v["generation_coal"] == pytest.approx(row["CEA.DGR.COL"] + row["CEA.DGR.LIG"])
    assert v["generation_total"] == pytest.approx(row["CEA.DGR.TOT"] - row["CEA.DGR.BHU"] + row["CEA.DGR.RES"])
    assert cea.attrs["flagged"] == 0


def test_posoco_gaps_and_typos_in_a_cut(data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    p, raw = posoco_cut(data_dir, tmp_path, "20240601", "20240731")
    clean = read_posoco_daily(p)
    assert clean["period"].nunique() == 61 and clean.attrs["flagged"] == 3  # real typos: nuclear (India, WR) 06-22, lignite 07-14
    bad = raw.copy()
    bad.loc[bad["yyyymmdd"] == "20240610", "India: EnergyMet"] = "52130.4"  # a slipped decimal point
    bad.loc[bad["yyyymmdd"] == "20240611", "India: Coal"] = "3,9O1"  # OCR text
    bad.loc[bad["yyyymmdd"] == "20240612", "India: Gas"] = ""  # a gap
    bad.loc[bad["yyyymmdd"] == "20240613", "WR: Hydro"] = "900"  # regions no longer add up to all India
    bad.loc[bad["yyyymmdd"] == "20240620", "India: EnergyMet"] = "3044.54"  # 5 -> 3: a 40% dip in one day
    bad.to_csv(p, index=False)
    with caplog.at_level(logging.WARNING, logger="ingest.india_grid"):
        t = read_posoco_daily(p)
    assert t.attrs["flagged"] == 3 + 1 + 1 + 6 + 1
    assert t.attrs["flagged_by_reason"]["spike against the 15-day median"] == 1
    assert "dropped 12 implausible value(s)" in caplog.text
    assert pd.Timestamp("2024-06-10") not in series(t, "demand").index
    assert pd.Timestamp("2024-06-11") not in series(t, "generation_coal").index
    assert pd.Timestamp("2024-06-12") not in series(t, "generation_gas").index
    wr = raw.set_index("yyyymmdd").loc["20240613"]
    assert series(t, "generation_hydro", "WR")["2024-06-13"] == float(wr["WR: HydroGen"]) != 900.0  # table A
    assert pd.Timestamp("2024-06-13") not in series(t, "generation_renewables", "WR").index
    assert len(series(t, "demand")) == 59 and len(series(t, "generation_total")) == 61


def test_posoco_wrong_files_raise(data_dir: Path, tmp_path: Path) -> None:
    p, raw = posoco_cut(data_dir, tmp_path, "20250101", "20250131")
    num = raw.drop(columns="yyyymmdd").apply(pd.to_numeric, errors="coerce")
    pd.concat([raw[["yyyymmdd"]], num / 1000], axis=1).to_csv(p, index=False)  # TWh
    with pytest.raises(IngestError, match="median all-India energy met is 4.*units off by 1000"):
        read_posoco_daily(p)
    pd.concat([raw[["yyyymmdd"]], num * 1000], axis=1).to_csv(p, index=False)  # MWh
    with pytest.raises(IngestError, match="units off by 1000"):
        read_posoco_daily(p)
    raw.drop(columns=["India: Coal", "WR: Gas"]).to_csv(p, index=False)
    with pytest.raises(IngestError, match=r"lacks the column\(s\) \['WR: Gas', 'India: Coal'\]"):
        read_posoco_daily(p)
    pd.concat([raw, raw.iloc[[4]]]).to_csv(p, index=False)
    with pytest.raises(IngestError, match="date 2025-01-05 occurs twice"):
        read_posoco_daily(p)
    raw.assign(yyyymmdd=raw["yyyymmdd"].str.slice(2)).to_csv(p, index=False)
    with pytest.raises(IngestError, match="row 2 has yyyymmdd '250101', not a date"):
        read_posoco_daily(p)
    gz = tmp_path / "POSOCO_data.csv.gz"
    gz.write_bytes((data_dir / POSOCO).read_bytes()[:300_000])
    with pytest.raises(IngestError, match="not a readable CSV"):
        read_posoco_daily(gz)


def test_cea_and_coal_total_wrong_units(data_dir: Path, tmp_path: Path) -> None:
    lines = (data_dir / CEA).read_text().splitlines()
    p = tmp_path / "CEA_DGR_data.csv"
    p.write_text("\n".join(lines[:40]) + "\n")
    assert read_cea_dgr(p)["period"].nunique() == 39
    raw = pd.read_csv(p)
    raw.assign(**{"CEA.DGR.COL": raw["CEA.DGR.COL"] * 1000}).to_csv(p, index=False)
    with pytest.raises(IngestError, match="median daily coal generation is 2.*units off by 1000"):
        read_cea_dgr(p)
    bad = raw.copy()
    bad.loc[3, "CEA.DGR.THM"] = bad.loc[3, "CEA.DGR.THM"] + 400
    bad.to_csv(p, index=False)
    t = read_cea_dgr(p)
    assert t.attrs["flagged_by_reason"] == {"thermal is not the sum of its fuels": 8}
    assert pd.Timestamp("2018-04-04") not in series(t, "generation_thermal").index
    c = tmp_path / "POSOCO_coal_total_data.csv"
    c.write_text("\n".join((data_dir / COAL).read_text().splitlines()[:30]) + "\n")
    assert len(read_posoco_coal_total(c)) == 2 * 29
    craw = pd.read_csv(c)
    craw.assign(Coal=craw["Coal"] / 1000, Other=craw["Other"] / 1000).to_csv(c, index=False)
    with pytest.raises(IngestError, match="units off by 1000"):
        read_posoco_coal_total(c)


def test_adapters_write_and_refuse(data_dir: Path, tmp_path: Path) -> None:
    a = POSOCOAdapter()
    t = a.read([data_dir / POSOCO, data_dir / COAL])
    assert set(t["source"]) == {"posoco", "posoco_coal_total"} and t.attrs["flagged"] == 18
    out = a.write(t, tmp_path / "posoco.parquet", inputs=[data_dir / POSOCO])
    assert len(pd.read_parquet(out)) == len(t)
    target = tmp_path / "cea.parquet"
    with pytest.raises(IngestError, match="is a posoco file, not one of cea_dgr's"):
        CEADGRAdapter().write(CEADGRAdapter().read([data_dir / POSOCO]), target)
    assert not target.exists()
    with pytest.raises(IngestError, match="overlapping files"):
        a.read([data_dir / COAL, data_dir / COAL])


def test_download_from_a_local_publisher(publisher, data_dir: Path, tmp_cache: Path) -> None:
    base, routes, hits = publisher
    files = {"POSOCO_data.csv": gzip.decompress((data_dir / POSOCO).read_bytes()),
             "POSOCO_coal_total_data.csv": (data_dir / COAL).read_bytes(), "CEA_DGR_data.csv": (data_dir / CEA).read_bytes()}
    for name, body in files.items():
        routes[("GET", f"/india/data/{name}")] = lambda q, h, b, body=body: (200, "text/csv", body)
    paths = POSOCOAdapter(base_url=f"{base}/india/data").download(date(2026, 8, 1), date(2026, 8, 21))
    assert [p.name for p in paths] == ["POSOCO_data.csv", "POSOCO_coal_total_data.csv"]
    assert all(p.is_relative_to(tmp_cache / "downloads" / "posoco") for p in paths)
    t = POSOCOAdapter().read(paths)
    assert t["period"].max() == pd.Timestamp("2026-08-21")
    cea = CEADGRAdapter(base_url=f"{base}/india/data")
    got = cea.download(date(2026, 8, 1), date(2026, 8, 21))
    assert [p.name for p in got] == ["CEA_DGR_data.csv"] and len(hits) == 3
    assert cea.download(date(2026, 8, 1), date(2026, 8, 21)) == got and len(hits) == 3  # cached
    with pytest.raises(IngestError, match="cea_dgr starts on 2018-04-01"):
        cea.download(date(2017, 1, 1), date(2017, 12, 31))


def test_download_offline(dead_url: str, tmp_cache: Path) -> None:
    with pytest.raises(IngestError, match="could not download .*CEA_DGR_data.csv.*offline"):
        CEADGRAdapter(base_url=dead_url).download(date(2026, 1, 1), date(2026, 1, 2))
