"""CREA China monthly CO2 by product and sector, on the shipped real (gzipped) file."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.activity import COLUMNS, PUBLICATION_LAG_DAYS
from ingest.base import IngestError
from ingest.crea_china_co2 import (
    SHIPPED,
    CreaChinaCO2Adapter,
    estimate_basis,
    predicted_months,
    read_crea_china_co2,
)


@pytest.fixture(scope="module")
def crea(data_dir: Path) -> pd.DataFrame:
    return read_crea_china_co2(data_dir / SHIPPED)


def total(t: pd.DataFrame, var: str, year: int) -> float:
    sel = (t["variable"] == var) & (t["period"].dt.year == year)
    assert sel.sum() == 12
    return float(t.loc[sel, "value"].sum())


def raw(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(data_dir / SHIPPED)


def test_2023_total_is_12_1_gt(crea: pd.DataFrame, data_dir: Path) -> None:
    assert total(crea, "co2_total", 2023) == pytest.approx(12084.8, abs=0.1)  # README: 12.1 Gt
    parts = sum(total(crea, v, 2023) for v in ("co2_coal", "co2_oil", "co2_gas", "co2_cement"))
    assert parts == pytest.approx(total(crea, "co2_total", 2023))
    assert total(crea, "co2_cement", 2023) == pytest.approx(745.0, abs=0.1)
    # the reported variant is higher (power-sector coal as reported)
    rep = read_crea_china_co2(data_dir / SHIPPED, "reported")
    assert total(rep, "co2_total", 2023) == pytest.approx(12337.5, abs=0.1)


def test_schema_and_spans(crea: pd.DataFrame) -> None:
    assert tuple(crea.columns) == COLUMNS
    assert (crea["iso3"] == "CHN").all() and (crea["unit"] == "MtCO2").all()
    assert (crea["source"] == "crea_china_co2").all() and crea.attrs["basis_of_estimate"] == "adjusted to NBS numbers"
    span = crea.groupby("variable")["period"].agg(["min", "max", "size"])
    assert span["max"].eq(pd.Timestamp("2024-12-01")).all()
    assert span.loc["co2_oil", "min"] == pd.Timestamp("2012-01-01")  # the annual 2001-2011 values are dropped
    assert span.loc["co2_coal", "min"] == pd.Timestamp("2012-12-01")  # steam-coal sector rows start then
    assert span.loc["co2_total", "size"] == 153  # 156 months less 2013-12, 2014-01, 2014-12
    gaps = set(pd.date_range("2012-01-01", "2024-12-01", freq="MS")) - set(
        crea.loc[crea["variable"] == "co2_total", "period"])
    assert sorted(gaps) == list(pd.to_datetime(["2013-12-01", "2014-01-01", "2014-12-01"]))
    assert span.loc["co2_gas_power", "min"] == pd.Timestamp("2019-01-01")


def test_total_row_and_sectors(crea: pd.DataFrame, data_dir: Path) -> None:
    r = raw(data_dir)
    sel = (r["basis_of_estimate"] == "adjusted to NBS numbers") & (r["product"] == "Total")
    published = r[sel].assign(period=pd.to_datetime(r.loc[sel, "date"]).dt.to_period("M").dt.to_timestamp())
    ours = crea[crea["variable"] == "co2_total"].merge(published, on="period")
    assert len(ours) == 153 and ((ours["value"] - ours["CO2"]).abs() < 1e-6).all()
    w = crea.pivot_table(index="period", columns="variable", values="value")
    sectors = w[["co2_coal_power", "co2_coal_heat", "co2_coal_industry", "co2_coal_other_sectors"]].sum(
        axis=1, min_count=4)
    both = sectors.notna() & w["co2_coal"].notna()
    assert both.sum() == 142 and ((sectors[both] - w.loc[both, "co2_coal"]).abs() < 1e-9).all()
    assert total(crea, "co2_coal_power", 2023) == pytest.approx(4260.0, abs=0.1)


def test_estimate_basis(data_dir: Path) -> None:
    e = estimate_basis(data_dir / SHIPPED)
    label = e.set_index(["variable", "period"])["estimate"]
    assert label[("co2_cement", pd.Timestamp("2020-05-01"))] == "reported"
    assert label[("co2_coal_power", pd.Timestamp("2014-06-01"))] == "reported"
    assert label[("co2_coal_power", pd.Timestamp("2015-01-01"))] == "predicted based on output"
    assert label[("co2_oil", pd.Timestamp("2024-03-01"))] == "adjusted to NBS numbers"
    months = predicted_months(data_dir / SHIPPED)
    assert len(months) == 153 and min(months) == pd.Timestamp("2012-01-01")
    assert predicted_months(data_dir / SHIPPED, "co2_cement") == []
    assert predicted_months(data_dir / SHIPPED, "co2_total", basis="reported") == []


def write(path: Path, df: pd.DataFrame) -> Path:
    df.to_csv(path, index=False, na_rep="NA")
    return path


def test_malformed_inputs(data_dir: Path, tmp_path: Path) -> None:
    r = raw(data_dir)
    with pytest.raises(IngestError, match="lacks the column"):
        read_crea_china_co2(write(tmp_path / "a.csv", r.drop(columns=["include_in_totals"])))
    with pytest.raises(IngestError, match=r"unit is \['ktCO2/month'\]"):
        read_crea_china_co2(write(tmp_path / "b.csv", r.assign(unit="ktCO2/month")))
    with pytest.raises(IngestError, match="duplicate"):
        read_crea_china_co2(write(tmp_path / "c.csv", pd.concat([r, r.iloc[[7000]]])))
    bad = r.copy()
    bad.loc[7000, "date"] = "2020-02-15"
    with pytest.raises(IngestError, match="'2020-02-15' is not the last day of a month"):
        read_crea_china_co2(write(tmp_path / "d.csv", bad))
    big = r.copy()
    big["CO2"] = big["CO2"] * 1000  # kt read as Mt
    with pytest.raises(IngestError, match="wrong units"):
        read_crea_china_co2(write(tmp_path / "e.csv", big))
    off = r.copy()
    i = off.index[(off["basis_of_estimate"] == "adjusted to NBS numbers") & (off["product"] == "Oil Products")
                  & (off["date"] == "2020-05-31")]
    off.loc[i, "CO2"] += 5.0
    with pytest.raises(IngestError, match="2020-05 add up to .* but the file's Total"):
        read_crea_china_co2(write(tmp_path / "f.csv", off))
    with pytest.raises(IngestError, match="basis must be one of"):
        read_crea_china_co2(data_dir / SHIPPED, "guessed")
    text = gzip.decompress((data_dir / SHIPPED).read_bytes())
    (tmp_path / "g.csv").write_bytes(text[: len(text) // 2])  # truncated mid-line
    with pytest.raises(IngestError, match="has no unit"):
        read_crea_china_co2(tmp_path / "g.csv")
    cut = text[: text.index(b"\n", len(text) // 2) + 1]  # truncated after a whole line
    (tmp_path / "h.csv").write_bytes(cut)
    with pytest.raises(IngestError, match="variants do not cover the same months"):
        read_crea_china_co2(tmp_path / "h.csv")


def test_adapter_write_and_download(publisher, data_dir: Path, tmp_path: Path, tmp_cache: Path) -> None:
    assert PUBLICATION_LAG_DAYS["crea_china_co2"] == 120
    base, routes, hits = publisher
    assert hits == []
    body = gzip.decompress((data_dir / SHIPPED).read_bytes())
    routes[("GET", "/energyandcleanair/china_co2/4043449a/outputs/CO2.csv")] = lambda q, h, b: (200, "text/csv", body)
    a = CreaChinaCO2Adapter(url=f"{base}/energyandcleanair/china_co2/4043449a/outputs/CO2.csv")
    paths = a.download(date(2023, 1, 1), date(2023, 12, 31))
    assert len(hits) == 1 and a.download(date(2024, 1, 1), date(2024, 3, 31)) == paths and len(hits) == 1
    assert paths[0].name == "CO2.csv" and paths[0].is_relative_to(tmp_cache / "downloads" / "crea_china_co2")
    t = a.read(paths)
    assert total(t, "co2_total", 2023) == pytest.approx(12084.8, abs=0.1)
    out = a.write(t, tmp_path / "crea.parquet", inputs=paths)
    assert len(pd.read_parquet(out)) == len(t)
    with pytest.raises(IngestError, match="negative"):
        a.write(t.assign(value=-t["value"]), tmp_path / "neg.parquet")
    assert not (tmp_path / "neg.parquet").exists()
    assert CreaChinaCO2Adapter().url.startswith("https://raw.githubusercontent.com/energyandcleanair/china_co2/4043449a/")
