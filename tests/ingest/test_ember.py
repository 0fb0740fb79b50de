from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingest.base import IngestError
from ingest.canonical import read_parquet_provenance
from ingest.ember import (
    EmberAdapter,
    fossil_generation,
    read_crea_monthly,
    read_crea_yearly,
    read_ember,
    read_ember_long,
)
from ingest.entsoe import CREA_FIXTURE, read_crea_daily

MONTHLY = "electricity/crea_fixture_ember_power_generation_de_monthly_2023-01.csv"
YEARLY = "electricity/crea_ember-eu-generation.csv"
LONG_HEADER = ["Area", "ISO 3 code", "Date", "Area type", "Continent", "Ember region", "EU", "OECD", "G20", "G7",
               "ASEAN", "Category", "Subcategory", "Variable", "Unit", "Value", "YoY absolute change", "YoY % change"]


def write_long(path: Path, rows: list[tuple[str, str, str, str, float | None]]) -> None:
    """Ember's monthly_full_release_long_format.csv layout: (date, category, subcategory/variable, unit, value)."""
    out = []
    for d, cat, sub, var, unit, val in rows:
        out.append(["Germany", "DEU", d, "Country", "Europe", "EU", 1, 1, 1, 1, 0, cat, sub, var, unit, val, None, None])
    pd.DataFrame(out, columns=LONG_HEADER).to_csv(path, index=False)


def test_crea_monthly_matches_entsoe_scale(data_dir: Path) -> None:
    m = read_crea_monthly(data_dir / MONTHLY)
    assert "Net imports" not in set(m["fuel"]) and len(m) == 9
    coal = m.loc[m["fuel"] == "coal", "generation_mwh"].item()
    assert coal == 14_430_000
    assert fossil_generation(m)["fossil_mwh"].item() == 14_430_000 + 7_200_000 + 1_760_000
    # cross-source check: ENTSO-E's daily DE coal in the same month is 1/31 of Ember's monthly order of magnitude
    e = read_crea_daily(data_dir / CREA_FIXTURE)
    daily_coal = e.loc[e["production_type"] == "Coal", "mwh"].mean()
    assert 0.3 < daily_coal * 31 / coal < 1.5


def test_crea_yearly_aggregates_checked(data_dir: Path) -> None:
    y = read_crea_yearly(data_dir / YEARLY)
    assert y["frequency"].eq("yearly").all() and y["period"].dt.year.min() == 2000
    assert y.loc[(y["period"] == "2000-01-01") & (y["fuel"] == "coal"), "generation_mwh"].item() == pytest.approx(1210.3e6)


def test_yearly_aggregate_mismatch(data_dir: Path, tmp_path: Path) -> None:
    bad = pd.read_csv(data_dir / YEARLY)
    bad.loc[(bad["variable"] == "Fossil") & (bad["year"] == 2005), "generation_twh"] += 100
    p = tmp_path / "gen.csv"
    bad.to_csv(p, index=False)
    with pytest.raises(IngestError, match="do not add up to the published 'Fossil' aggregate"):
        read_crea_yearly(p)


def test_ember_long_format(tmp_path: Path) -> None:
    p = tmp_path / "monthly_full_release_long_format.csv"
    write_long(p, [
        ("2023-01-01", "Electricity generation", "Fuel", "Coal", "TWh", 14.43),
        ("2023-01-01", "Electricity generation", "Fuel", "Gas", "TWh", 7.2),
        ("2023-01-01", "Electricity generation", "Fuel", "Coal", "%", 30.5),
        ("2023-01-01", "Electricity generation", "Aggregate fuel", "Fossil", "TWh", 23.39),
        ("2023-01-01", "Power sector emissions", "Fuel", "Coal", "mtCO2", 14.0),
        ("2023-02-01", "Electricity generation", "Fuel", "Coal", "TWh", None),
    ])
    t = read_ember(p)
    assert t["area"].tolist() == ["DEU", "DEU"] and t["generation_mwh"].tolist() == pytest.approx([14.43e6, 7.2e6])
    write_long(p, [("2023-01-01", "Electricity generation", "Fuel", "Coal", "GWh", 14430.0)])
    with pytest.raises(IngestError, match=r"generation rows are in \['GWh'\], expected TWh"):
        read_ember_long(p)
    write_long(p, [("2023-01-15", "Electricity generation", "Fuel", "Coal", "TWh", 14.4)])
    with pytest.raises(IngestError, match="first of the month"):
        read_ember_long(p)


def test_adapter_and_bad_input(data_dir: Path, tmp_path: Path) -> None:
    a = EmberAdapter()
    srcs = [data_dir / MONTHLY, data_dir / YEARLY]
    out = a.write(a.read(srcs), tmp_path / "ember.parquet", inputs=srcs)
    assert set(pd.read_parquet(out)["frequency"]) == {"monthly", "yearly"}
    assert len(read_parquet_provenance(out)["inputs"]) == 2
    with pytest.raises(IngestError, match="duplicate date 2023-01-01 for DE bioenergy"):
        a.read([data_dir / MONTHLY, data_dir / MONTHLY])
    raw = pd.read_csv(data_dir / MONTHLY)
    p = tmp_path / "m.csv"
    raw.assign(value_mwh=raw["value_mwh"] * 1000).to_csv(p, index=False)
    with pytest.raises(IngestError, match="wrong units"):
        read_crea_monthly(p)
    raw.drop(columns=["iso2"]).to_csv(p, index=False)
    with pytest.raises(IngestError, match=r"lacks the column\(s\) \['iso2'\]"):
        read_ember(p)
    raw.rename(columns={"value_mwh": "value"}).to_csv(p, index=False)
    with pytest.raises(IngestError, match="not an Ember layout"):
        read_ember(p)
