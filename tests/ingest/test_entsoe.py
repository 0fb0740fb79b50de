from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingest.base import IngestError
from ingest.canonical import read_parquet_provenance
from ingest.entsoe import (
    CREA_FIXTURE,
    EMISSION_FACTORS_KG_PER_MWH,
    ENTSOEAdapter,
    daily_fossil,
    read_agpt_export,
    read_agpt_fms,
    read_crea_daily,
)

TYPES = ("Biomass", "Fossil Brown coal/Lignite", "Fossil Gas", "Fossil Hard coal", "Nuclear", "Solar")


def write_tp_export(path: Path, days: int = 2, step_min: int = 15, zone: str = "CET/CEST",
                    start: str = "2023-01-01") -> pd.DataFrame:
    """A Transparency Platform 'Actual Generation per Production Type' CSV export, real header layout."""
    t0 = pd.date_range(start, periods=days * 24 * 60 // step_min, freq=f"{step_min}min")
    t1 = t0 + pd.Timedelta(minutes=step_min)
    rng = np.random.default_rng(1)
    data = {"Area": "CTY|DE", "MTU": [f"{a:%d.%m.%Y %H:%M} - {b:%d.%m.%Y %H:%M} ({zone})" for a, b in zip(t0, t1)]}
    mw = {}
    for p in TYPES:
        mw[p] = rng.uniform(1000, 9000, len(t0)).round(2)
        data[f"{p}  - Actual Aggregated [MW]"] = mw[p]
        data[f"{p}  - Actual Consumption [MW]"] = "n/e"
    df = pd.DataFrame(data)
    df["Solar  - Actual Aggregated [MW]"] = df["Solar  - Actual Aggregated [MW]"].astype(object)
    df.loc[5, "Solar  - Actual Aggregated [MW]"] = "n/e"
    df.to_csv(path, index=False, quoting=1)
    return pd.DataFrame(mw, index=t0)


def test_crea_fixture(data_dir: Path) -> None:
    d = read_crea_daily(data_dir / CREA_FIXTURE)
    assert set(d["production_type"]) == {"Coal", "Fossil Gas", "Hydro", "Nuclear", "Other", "Solar", "Storage", "Wind"}
    f = daily_fossil(d).set_index("day")
    jan2 = f.loc["2023-01-02"]
    assert jan2["fossil_mwh"] == pytest.approx(347226.1875 + 53180.815)
    assert jan2["co2_kg"] == pytest.approx(347226.1875 * EMISSION_FACTORS_KG_PER_MWH["Coal"]
                                           + 53180.815 * EMISSION_FACTORS_KG_PER_MWH["Fossil Gas"])
    # documented factors: IPCC fuel factor / efficiency, e.g. gas 56.1 kg/GJ / 0.50 -> 404 kg/MWh
    assert EMISSION_FACTORS_KG_PER_MWH["Fossil Gas"] == pytest.approx(3.6 * 56.1 / 0.50, abs=0.1)
    assert 0.8 < f["co2_kg"].sum() / f["fossil_mwh"].sum() / 1000 < 1.0  # t CO2 per MWh of a coal-heavy mix


def test_tp_export_cet_to_utc_days(tmp_path: Path) -> None:
    p = tmp_path / "Actual Generation per Production Type_202301010000-202301030000.csv"
    mw = write_tp_export(p)
    d = read_agpt_export(p)
    # 2023-01-01 00:00 CET is 2022-12-31 23:00 UTC: the first UTC day holds 1 hour
    first = d[(d["day"] == "2022-12-31") & (d["production_type"] == "Fossil Gas")]
    assert first["hours"].item() == pytest.approx(1.0)
    utc = mw.copy()
    utc.index = utc.index.tz_localize("Europe/Berlin").tz_convert("UTC").tz_localize(None)
    ref = (utc["Fossil Gas"] * 0.25).groupby(utc.index.normalize()).sum()
    got = d[d["production_type"] == "Fossil Gas"].set_index("day")["mwh"]
    assert np.allclose(got.to_numpy(), ref.to_numpy())
    solar = d[(d["production_type"] == "Solar") & (d["day"] == "2023-01-01")]
    assert solar["hours"].item() == pytest.approx(24.0 - 0.25)  # a full UTC day less one n/e quarter hour
    fossil = daily_fossil(d)
    assert set(fossil["iso2"]) == {"DE"}


def test_fms_layout(tmp_path: Path) -> None:
    t = pd.date_range("2023-01-01", periods=48, freq="h")
    rows = []
    for p, v in (("Fossil Gas", 1000.0), ("Fossil Hard coal", 2000.0), ("Solar", 500.0)):
        for x in t:
            rows.append([f"{x:%Y-%m-%d %H:%M:%S}", "PT60M", "10Y1001A1001A83F", "Germany (DE)", "BZN/CTY", "DE", p,
                         v, 0.0, "2023-01-05 10:00:00"])
            rows.append([f"{x:%Y-%m-%d %H:%M:%S}", "PT60M", "10YDE-VE-------2", "50Hertz CA", "CTA", "DE", p, 1.0,
                         0.0, "2023-01-05 10:00:00"])
    cols = ["DateTime(UTC)", "ResolutionCode", "AreaCode", "AreaDisplayName", "AreaTypeCode", "AreaMapCode",
            "ProductionType", "ActualGenerationOutput[MW]", "ActualConsumption[MW]", "UpdateTime(UTC)"]
    path = tmp_path / "2023_01_AggregatedGenerationPerType_16.1.B_C_r3.csv"
    pd.DataFrame(rows, columns=cols).to_csv(path, sep="\t", index=False)
    f = daily_fossil(read_agpt_fms(path))
    assert f["fossil_mwh"].tolist() == [72000.0, 72000.0]  # CTA rows not counted
    assert f["co2_kg"].iloc[0] == pytest.approx(24 * (1000 * EMISSION_FACTORS_KG_PER_MWH["Fossil Gas"]
                                                      + 2000 * EMISSION_FACTORS_KG_PER_MWH["Fossil Hard coal"]))


def test_adapter_write_and_overlap(data_dir: Path, tmp_path: Path) -> None:
    a = ENTSOEAdapter()
    src = data_dir / CREA_FIXTURE
    out = a.write(a.read([src]), tmp_path / "entsoe.parquet", inputs=[src])
    assert len(pd.read_parquet(out)) == 2 and read_parquet_provenance(out)["source_name"] == "entsoe"
    with pytest.raises(IngestError, match="the files overlap"):
        a.read([src, src])
    import datetime as dt
    with pytest.raises(IngestError, match="set the setting 'entsoe_token'"):
        a.download(dt.date(2023, 1, 1), dt.date(2023, 1, 2))


def test_bad_input(data_dir: Path, tmp_path: Path) -> None:
    raw = pd.read_csv(data_dir / CREA_FIXTURE)
    cases = [
        (raw.drop(columns=["value_mwh"]), r"lacks the column\(s\) \['value_mwh'\]"),
        (raw.assign(value_mwh=raw["value_mwh"] / 24), "value_mwh must be 24 x value_mw"),
        (pd.concat([raw, raw.iloc[:1]]), "duplicate date 2023-01-01 for DE Coal"),
        (raw.assign(source=raw["source"].replace("Coal", "Lignite")), r"unknown source\(s\) \['Lignite'\]"),
        (raw.assign(value_mw=raw["value_mw"] * 1000, value_mwh=raw["value_mwh"] * 1000), "must be in MW"),
    ]
    for df, msg in cases:
        p = tmp_path / "bad.csv"
        df.to_csv(p, index=False)
        with pytest.raises(IngestError, match=msg):
            read_crea_daily(p)
    p = tmp_path / "Actual Generation per Production Type.csv"
    write_tp_export(p, days=1)
    text = p.read_text().replace("(CET/CEST)", "(EET)")
    p.write_text(text)
    with pytest.raises(IngestError, match="unknown MTU time zone"):
        read_agpt_export(p)
    write_tp_export(p, days=1, step_min=20, zone="UTC")
    with pytest.raises(IngestError, match="MTU intervals must be 15, 30 or 60 minutes"):
        read_agpt_export(p)
    out = tmp_path / "never.parquet"
    with pytest.raises(IngestError):
        ENTSOEAdapter().read([p])
    assert not out.exists()
