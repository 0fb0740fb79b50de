"""CICERO monthly fossil CO2 by fuel (EU27, European countries, India), on the shipped real files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.activity import COLUMNS, PUBLICATION_LAG_DAYS
from ingest.base import IngestError
from ingest.cicero_monthly_co2 import CiceroEuropeCO2Adapter, CiceroIndiaCO2Adapter, read_cicero_monthly_co2

DIR = "statistical/monthly-co2"
EU27 = f"{DIR}/cicero_EU27_monthly_CO2_data.csv"
COUNTRIES = f"{DIR}/cicero_europeancountries_monthly_CO2_data.csv"
INDIA = f"{DIR}/cicero_india_monthly_co2_emissions_data.csv"


def span(t: pd.DataFrame, iso3: str, var: str) -> tuple[str, str, int]:
    s = t.loc[(t["iso3"] == iso3) & (t["variable"] == var), "period"]
    return f"{s.min():%Y-%m}", f"{s.max():%Y-%m}", len(s)


def value(t: pd.DataFrame, iso3: str, var: str, month: str) -> float:
    return float(t.loc[(t["iso3"] == iso3) & (t["variable"] == var) & (t["period"] == month), "value"].item())


def test_eu27(data_dir: Path) -> None:
    t = read_cicero_monthly_co2(data_dir / EU27)
    assert tuple(t.columns) == COLUMNS and set(t["iso3"]) == {"EU27"} and set(t["unit"]) == {"MtCO2"}
    assert (t["source"] == "cicero_eu_monthly_co2").all()
    assert span(t, "EU27", "co2_coal") == ("2008-01", "2026-04", 220)
    assert span(t, "EU27", "co2_oil") == ("2009-01", "2026-04", 208)
    assert span(t, "EU27", "co2_total") == ("2009-01", "2026-04", 208)  # oil starts 2009-01
    assert value(t, "EU27", "co2_coal", "2008-01-01") == pytest.approx(104.607679)  # first line of the file
    raw = pd.read_csv(data_dir / EU27)
    row = raw[raw["YYYYMM"] == 202304].iloc[0]
    assert value(t, "EU27", "co2_total", "2023-04-01") == pytest.approx(row[["Coal", "Oil", "Gas", "Cement"]].sum())
    assert len(raw) == 228 and raw.iloc[-1].isna().sum() == 4  # 2026-12 present but empty ...
    assert t["period"].max() == pd.Timestamp("2026-04-01")  # ... and dropped, not zero-filled


def test_india(data_dir: Path) -> None:
    t = read_cicero_monthly_co2(data_dir / INDIA)
    assert set(t["iso3"]) == {"IND"} and (t["source"] == "cicero_india_monthly_co2").all()
    assert span(t, "IND", "co2_coal") == ("2008-09", "2026-06", 214)
    assert span(t, "IND", "co2_oil") == ("1998-04", "2026-07", 340)
    assert span(t, "IND", "co2_total") == ("2008-09", "2026-06", 214)  # July 2026 lacks coal and gas
    yr = t[(t["variable"] == "co2_total") & (t["period"].dt.year == 2023)]["value"].sum()
    assert yr == pytest.approx(3047.5, abs=0.1)  # GCB 2025: India 2023 fossil CO2 ~3.06 Gt


def test_countries(data_dir: Path) -> None:
    t = read_cicero_monthly_co2(data_dir / COUNTRIES)
    assert t["iso3"].nunique() == 26
    assert sorted(t.loc[t["variable"] == "co2_cement", "iso3"].unique()) == ["DEU", "ESP", "POL"]
    # a country without cement: the total is coal + oil + gas where all three are there
    assert span(t, "AUT", "co2_total") == ("2008-01", "2025-08", 212)  # 2025-09 has no coal yet
    assert value(t, "AUT", "co2_total", "2008-01-01") == pytest.approx(1.572133 + 2.948808 + 2.152163)
    # a country whose cement series starts later: the total starts with it
    assert span(t, "DEU", "co2_cement")[0] == "2018-07" and span(t, "DEU", "co2_total")[0] == "2018-07"
    # a gap inside a fuel series (LUX coal 2010-09) leaves the total out that month, no zero
    lux = t[(t["iso3"] == "LUX") & (t["period"] == "2010-09-01")]
    assert set(lux["variable"]) == {"co2_oil", "co2_gas"}
    # negative coal (Eurostat stock changes) is kept as published
    assert value(t, "BEL", "co2_coal", "2009-12-01") == pytest.approx(-1.252742)
    assert (t.loc[t["variable"] == "co2_total", "value"] > 0).all()


def test_malformed(data_dir: Path, tmp_path: Path) -> None:
    src = (data_dir / COUNTRIES).read_text().splitlines(keepends=True)
    p = tmp_path / "x.csv"
    p.write_text("".join(src[:13] + [src[12]]))
    with pytest.raises(IngestError, match="month 2008-12 appears twice for AUT"):
        read_cicero_monthly_co2(p)
    p.write_text(src[0].replace("Coal (MtCO2)", "Coal (ktCO2)") + "".join(src[1:13]))
    with pytest.raises(IngestError, match="not a CICERO monthly CO2 layout"):
        read_cicero_monthly_co2(p)
    p.write_text("".join(src[:5] + [src[5].replace("200805", "2008-5")] + src[6:13]))
    with pytest.raises(IngestError, match="'2008-5' is not YYYYMM"):
        read_cicero_monthly_co2(p)
    p.write_text("".join(src[:5] + [src[5].replace(".", ",,", 1)] + src[6:13]))  # a garbled row
    with pytest.raises(IngestError, match="not a readable CSV"):
        read_cicero_monthly_co2(p)
    eu = (data_dir / EU27).read_text().splitlines(keepends=True)
    p.write_text("".join(eu[:3] + [eu[3].replace("94.873814", "94873.814")] + eu[4:13]))  # kt in an Mt file
    with pytest.raises(IngestError, match="co2_coal 94873.8 MtCO2 .* exceeds 1000: wrong units"):
        read_cicero_monthly_co2(p)
    p.write_text("".join(eu[:3] + [eu[3].replace("94.873814", "n/a")] + eu[4:13]))
    with pytest.raises(IngestError, match="Coal 'n/a' in 200803 is not a number"):
        read_cicero_monthly_co2(p)
    ind = (data_dir / INDIA).read_text()
    p.write_text(ind[: ind.index("\n", len(ind) // 2) + 12])  # truncated mid-line (month + one field)
    with pytest.raises(IngestError, match="line 200 has 2 fields, the header 5"):
        read_cicero_monthly_co2(p)
    p.write_text(ind[: ind.index("\n", len(ind) // 2) + 1])  # truncated after a whole line
    with pytest.raises(IngestError, match="not one run ending in December"):
        read_cicero_monthly_co2(p)


def test_adapters_and_download(publisher, data_dir: Path, tmp_path: Path, tmp_cache: Path) -> None:
    assert PUBLICATION_LAG_DAYS["cicero_eu_monthly_co2"] == 115
    assert PUBLICATION_LAG_DAYS["cicero_india_monthly_co2"] == 55
    base, routes, hits = publisher
    served = {"EU/data/EU27_monthly_CO2_data.csv": EU27, "EU/data/europeancountries_monthly_CO2_data.csv": COUNTRIES,
              "india/data/india_co2_emissions_data.csv": INDIA}
    for remote, local in served.items():
        body = (data_dir / local).read_bytes()
        routes[("GET", f"/gh/{remote}")] = lambda q, h, b, body=body: (200, "text/csv", body)
    eu = CiceroEuropeCO2Adapter(base_url=f"{base}/gh")
    paths = eu.download(date(2024, 1, 1), date(2024, 12, 31))
    assert [p.name for p in paths] == ["EU27_monthly_CO2_data.csv", "europeancountries_monthly_CO2_data.csv"]
    t = eu.read(paths)
    assert t["iso3"].nunique() == 27 and len(hits) == 2
    out = eu.write(t, tmp_path / "eu.parquet", inputs=paths)
    assert len(pd.read_parquet(out)) == len(t)
    ind = CiceroIndiaCO2Adapter(base_url=f"{base}/gh")
    assert set(ind.read(ind.download(date(2024, 1, 1), date(2024, 1, 31)))["iso3"]) == {"IND"}
    with pytest.raises(IngestError, match="duplicate"):
        eu.read([data_dir / EU27, data_dir / EU27])
    with pytest.raises(IngestError, match="duplicate"):
        eu.write(pd.concat([t, t.iloc[:3]]), tmp_path / "dup.parquet")
    assert not (tmp_path / "dup.parquet").exists()
    assert CiceroEuropeCO2Adapter().base_url == "https://raw.githubusercontent.com/robbieandrew/robbieandrew.github.io/0cf3c5b6/"
