"""India monthly oil, gas and coal statistics (CICERO compilations), on the shipped real files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.activity import COLUMNS, PUBLICATION_LAG_DAYS
from ingest.base import IngestError
from ingest.india_monthly import (
    IndiaCoalAdapter,
    IndiaGasAdapter,
    IndiaOilAdapter,
    metadata_path,
    read_india_coal_monthly,
    read_india_gas_monthly,
    read_india_oil_monthly,
)

DIR = "activity/india-monthly"
MAIN = f"{DIR}/India_monthly_data.csv"
META = f"{DIR}/India_monthly_metadata.json"
PETRCONS = f"{DIR}/monthly_petrcons_tonnes_data.csv"
GAS = f"{DIR}/india_monthly_gas_data.csv"
COAL = f"{DIR}/monthly_coal_full_data.csv"


def one(t: pd.DataFrame, var: str, month: str) -> float:
    return float(t.loc[(t["variable"] == var) & (t["period"] == month), "value"].item())


def fy_sum(t: pd.DataFrame, var: str, fy_start: int) -> float:
    """Indian fiscal year April..March."""
    p = t["period"]
    sel = (t["variable"] == var) & (p >= f"{fy_start}-04-01") & (p <= f"{fy_start + 1}-03-01")
    assert sel.sum() == 12
    return float(t.loc[sel, "value"].sum())


def test_oil_main_file(data_dir: Path) -> None:
    t = read_india_oil_monthly(data_dir / MAIN)
    assert tuple(t.columns) == COLUMNS and set(t["iso3"]) == {"IND"} and set(t["unit"]) == {"kt"}
    assert set(t["variable"]) == {"diesel", "petrol", "jet_fuel", "lpg"} and (t["source"] == "india_ppac_oil").all()
    span = t.groupby("variable")["period"].agg(["min", "max", "size"])
    assert (span["min"] == pd.Timestamp("1998-04-01")).all() and (span["max"] == pd.Timestamp("2026-07-01")).all()
    assert (span["size"] == 340).all()  # no gaps
    raw = pd.read_csv(data_dir / MAIN)
    r = raw[raw["yyyymm"] == 202401].iloc[0]
    assert one(t, "diesel", "2024-01-01") == pytest.approx(r["PET.HSD.CON"])
    assert one(t, "jet_fuel", "2024-01-01") == pytest.approx(r["PET.ATF.CON"])
    # PPAC: FY2023-24 consumption of HSD ~89.7 Mt, MS ~37.2 Mt, ATF ~8.2 Mt, LPG ~29.6 Mt
    assert fy_sum(t, "diesel", 2023) == pytest.approx(89_700, rel=0.01)
    assert fy_sum(t, "petrol", 2023) == pytest.approx(37_200, rel=0.01)
    assert fy_sum(t, "jet_fuel", 2023) == pytest.approx(8_200, rel=0.02)
    assert fy_sum(t, "lpg", 2023) == pytest.approx(29_600, rel=0.02)


def test_petrcons_is_in_mt_and_matches(data_dir: Path) -> None:
    main = read_india_oil_monthly(data_dir / MAIN)
    pc = read_india_oil_monthly(data_dir / PETRCONS)
    assert set(pc["variable"]) == {"diesel", "petrol"} and set(pc["unit"]) == {"kt"}
    m = pc.merge(main, on=["period", "variable"])
    assert len(m) == len(pc) == 680 and ((m["value_x"] - m["value_y"]).abs() < 0.6).all()


def test_gas(data_dir: Path) -> None:
    t = read_india_gas_monthly(data_dir / GAS)
    assert set(t["variable"]) == {"natural_gas"} and set(t["unit"]) == {"bcm"}
    assert (t["period"].min(), t["period"].max(), len(t)) == (pd.Timestamp("2015-04-01"), pd.Timestamp("2026-06-01"), 135)
    raw = pd.read_csv(data_dir / GAS)
    assert one(t, "natural_gas", "2026-06-01") == pytest.approx(raw["GAS.CON.TOT"].iloc[-1] / 1000)
    # same series in the main file, with its own metadata
    pd.testing.assert_series_equal(read_india_gas_monthly(data_dir / MAIN)["value"], t["value"])


def test_coal(data_dir: Path) -> None:
    t = read_india_coal_monthly(data_dir / COAL)
    assert set(t["unit"]) == {"Mt"} and (t["source"] == "india_coal").all()
    span = t.groupby("variable")["period"].agg(["min", "max", "size"])
    assert tuple(span.loc["raw_coal"]) == (pd.Timestamp("1999-04-01"), pd.Timestamp("2026-06-01"), 327)
    assert tuple(span.loc["coal_consumption_power"]) == (pd.Timestamp("2014-04-01"), pd.Timestamp("2026-06-01"), 147)
    # India passed 1 billion tonnes of coal production in FY2023-24 (997.8 Mt provisional)
    assert fy_sum(t, "raw_coal", 2023) == pytest.approx(997, abs=15)
    raw = pd.read_csv(data_dir / COAL)
    assert one(t, "raw_coal", "1999-04-01") == pytest.approx(raw["National coal production"].iloc[0])


def test_units_come_from_the_metadata(data_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "India_monthly_data.csv"
    data.write_bytes((data_dir / MAIN).read_bytes())
    with pytest.raises(IngestError, match="metadata file not found: .*India_monthly_metadata.json"):
        read_india_oil_monthly(data)
    meta = json.loads((data_dir / META).read_text())
    for f in meta["fields"]:
        if f["name"] == "PET.HSD.CON":
            f["units"] = "millions of tonnes"  # the same numbers declared in Mt: x1000, out of range
    metadata_path(data).write_text(json.dumps(meta))
    with pytest.raises(IngestError, match=r"PET.HSD.CON has a monthly median of .* kt, outside 1000..20000"):
        read_india_oil_monthly(data)
    for f in meta["fields"]:
        if f["name"] == "PET.HSD.CON":
            f["units"] = "barrels"
    metadata_path(data).write_text(json.dumps(meta))
    with pytest.raises(IngestError, match="PET.HSD.CON is in 'barrels'"):
        read_india_oil_monthly(data)
    metadata_path(data).write_text("{not json")
    with pytest.raises(IngestError, match="is not CICERO metadata"):
        read_india_oil_monthly(data)


def test_malformed(data_dir: Path, tmp_path: Path) -> None:
    src = (data_dir / COAL).read_text().splitlines(keepends=True)
    p = tmp_path / "monthly_coal_full_data.csv"
    p.write_text("".join(src[:20] + [src[19]]))
    with pytest.raises(IngestError, match="month 200010 appears twice"):
        read_india_coal_monthly(p)
    p.write_text("".join(src[:20] + [src[20].replace("2000", "20-0", 1)]))
    with pytest.raises(IngestError, match="is not YYYYMM"):
        read_india_coal_monthly(p)
    p.write_text(src[0].replace("National coal production", "Coal") + "".join(src[1:20]))
    with pytest.raises(IngestError, match=r"lacks the column\(s\) \['National coal production'\]"):
        read_india_coal_monthly(p)
    pc = (data_dir / PETRCONS).read_text().splitlines(keepends=True)
    q = tmp_path / "monthly_petrcons_tonnes_data.csv"
    kt = [pc[0]] + [",".join([ln.split(",")[0]] + [str(float(x) * 1000) for x in ln.strip().split(",")[1:]]) + "\n"
                    for ln in pc[1:]]
    q.write_text("".join(kt))  # the file in kt instead of Mt
    with pytest.raises(IngestError, match="wrong units"):
        read_india_oil_monthly(q)
    q.write_text("".join(pc[:30] + [pc[30].replace(".", "x", 1)]))
    with pytest.raises(IngestError, match="is not a number"):
        read_india_oil_monthly(q)
    with pytest.raises(IngestError, match="neither India_monthly_data"):
        read_india_oil_monthly(data_dir / COAL)


def test_adapters_download_and_write(publisher, data_dir: Path, tmp_path: Path, tmp_cache: Path) -> None:
    assert [PUBLICATION_LAG_DAYS[s] for s in ("india_ppac_oil", "india_ppac_gas", "india_coal")] == [30, 55, 55]
    base, routes, hits = publisher
    for rel in (MAIN, META, GAS, f"{DIR}/india_monthly_gas_metadata.json", COAL):
        body = (data_dir / rel).read_bytes()
        routes[("GET", f"/india/data/{Path(rel).name}")] = lambda q, h, b, body=body: (200, "text/plain", body)
    oil = IndiaOilAdapter(base_url=f"{base}/india/data")
    paths = oil.download(date(2024, 1, 1), date(2024, 12, 31))
    assert [p.name for p in paths] == ["India_monthly_data.csv", "India_monthly_metadata.json"]
    t = oil.read(paths)
    assert fy_sum(t, "diesel", 2023) == pytest.approx(89_700, rel=0.01)
    out = oil.write(t, tmp_path / "oil.parquet", inputs=paths)
    assert len(pd.read_parquet(out)) == len(t)
    gas = IndiaGasAdapter(base_url=f"{base}/india/data")
    assert len(gas.read(gas.download(date(2024, 1, 1), date(2024, 1, 31)))) == 135
    coal = IndiaCoalAdapter(base_url=f"{base}/india/data")
    assert len(coal.read(coal.download(date(2024, 1, 1), date(2024, 1, 31)))) == 327 + 147
    assert len(hits) == 5
    with pytest.raises(IngestError, match="exactly one"):
        oil.read([data_dir / MAIN, data_dir / PETRCONS])
    with pytest.raises(IngestError, match="negative"):
        oil.write(t.assign(value=-1.0), tmp_path / "neg.parquet")
    assert not (tmp_path / "neg.parquet").exists()
    assert IndiaOilAdapter().base_url == ("https://raw.githubusercontent.com/robbieandrew/robbieandrew.github.io/"
                                          "0cf3c5b6/india/data/")
