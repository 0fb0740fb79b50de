"""China NBS monthly statistics (Wind exports, provincial thermal power) on the shipped real files."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.activity import COLUMNS, published_by
from ingest.base import IngestError
from ingest.canonical import read_parquet_provenance
from ingest.china_monthly import (
    PROVINCE_CODES,
    ChinaApparentConsumptionAdapter,
    NBSChinaMonthlyAdapter,
    NBSChinaProvinceAdapter,
    combined_jan_feb,
    nbs_published_by,
    read_china_apparent_consumption,
    read_china_industry_monthly,
    read_china_province_thermal_monthly,
    read_wind_export,
)

DIR = "activity/china-monthly"
INDUSTRY = f"{DIR}/monthly_industry_stats.csv"
POWER = f"{DIR}/power_generation_by_type.csv"
APPARENT = f"{DIR}/apparent_consumption_of_fossils.csv"
PROV_M = f"{DIR}/nbs_province_thermal_power_monthly_火电当月.csv"
PROV_Y = f"{DIR}/nbs_province_thermal_power_ytd_火电累计.csv"


@pytest.fixture(scope="module")
def industry(data_dir: Path) -> pd.DataFrame:
    return read_china_industry_monthly(data_dir / INDUSTRY)


@pytest.fixture(scope="module")
def power(data_dir: Path) -> pd.DataFrame:
    return read_china_industry_monthly(data_dir / POWER)


def raw_cell(path: Path, month: str, column: str) -> float:
    """A value of a Wind export read with nothing but csv (independent of the reader)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    col = next(r for r in rows if r[0] == "Name").index(column)
    row = next(r for r in rows if r[0] == month)
    return float(row[col].replace(",", ""))


def year_sum(t: pd.DataFrame, var: str, year: int) -> float:
    sel = (t["variable"] == var) & (t["period"].dt.year == year)
    assert sel.sum() == 12
    return float(t.loc[sel, "value"].sum())


def test_known_2023_totals(industry: pd.DataFrame, power: pd.DataFrame, data_dir: Path) -> None:
    # shared README: crude steel 2023 = 1,019 Mt, cement 2,023 Mt, thermal power 6,232 TWh
    assert year_sum(industry, "crude_steel", 2023) == pytest.approx(1019.08, abs=0.01)
    assert year_sum(industry, "cement", 2023) == pytest.approx(2022.93, abs=0.01)
    assert year_sum(power, "generation_thermal", 2023) == pytest.approx(6231.80, abs=0.01)
    # every full year sums to the December YTD of the file (10^4 t -> Mt)
    for year in (2005, 2016, 2020, 2024):
        dec = raw_cell(data_dir / INDUSTRY, f"{year}-12", "Output: Pig Irons: YTD")
        assert year_sum(industry, "pig_iron", year) == pytest.approx(dec / 100)
    crude = read_china_industry_monthly(data_dir / APPARENT)
    assert set(crude["variable"]) == {"crude_processing"}
    assert year_sum(crude, "crude_processing", 2023) == pytest.approx(734.777859)  # the file states tons


def test_canonical_schema_and_spans(industry: pd.DataFrame, power: pd.DataFrame) -> None:
    for t in (industry, power):
        assert tuple(t.columns) == COLUMNS
        assert (t["iso3"] == "CHN").all() and (t["region"] == "").all() and (t["frequency"] == "monthly").all()
        assert (t["source"] == "nbs_china_monthly").all()
    assert set(industry["unit"]) == {"Mt"} and set(power["unit"]) == {"TWh"}
    span = power.groupby("variable")["period"].agg(["min", "max"])
    assert span.loc["generation_solar", "min"] == pd.Timestamp("2016-06-01")  # YTD starts 2016-05
    assert span["max"].eq(pd.Timestamp("2024-12-01")).all()
    assert industry["period"].min() == pd.Timestamp("1989-01-01")


def test_jan_feb_split_by_days(industry: pd.DataFrame, power: pd.DataFrame, data_dir: Path) -> None:
    def val(t: pd.DataFrame, var: str, month: str) -> float:
        return float(t.loc[(t["variable"] == var) & (t["period"] == month), "value"].item())

    feb23 = raw_cell(data_dir / INDUSTRY, "2023-02", "Output: Crude Steels: YTD") / 100
    assert val(industry, "crude_steel", "2023-01-01") == pytest.approx(feb23 * 31 / 59)
    assert val(industry, "crude_steel", "2023-02-01") == pytest.approx(feb23 * 28 / 59)
    feb24 = raw_cell(data_dir / POWER, "2024-02", "China: Output: Thermal Power: YTD") / 10
    assert val(power, "generation_thermal", "2024-02-01") == pytest.approx(feb24 * 29 / 60)  # leap year
    split = combined_jan_feb(industry)
    steel = set(split.loc[split["variable"] == "crude_steel", "year"])
    assert {1989, *range(2016, 2025)} == steel  # the years without a January row
    assert 2012 not in set(split.loc[split["variable"] == "raw_coal", "year"])  # January reported in 2012
    assert val(industry, "raw_coal", "2012-01-01") == pytest.approx(256.0)
    wind = set(combined_jan_feb(power).query("variable == 'generation_wind'")["year"])
    assert 2013 in wind and 2012 not in wind


def test_falling_ytd_drops_both_months(industry: pd.DataFrame) -> None:
    coal = industry[industry["variable"] == "raw_coal"]
    assert not coal["period"].isin(pd.to_datetime(["2012-11-01", "2012-12-01"])).any()
    assert industry.attrs["dropped"] == ["raw_coal 2012-11", "raw_coal 2012-12"]
    assert (industry["value"] > 0).all()


def test_power_columns_repeat_in_industry_file(data_dir: Path) -> None:
    a = read_wind_export(data_dir / INDUSTRY).values["China: Output: Thermal Power: YTD"]
    b = read_wind_export(data_dir / POWER).values["China: Output: Thermal Power: YTD"]
    both = a.index.intersection(b.index)
    pd.testing.assert_series_equal(a[both], b[both], check_names=False)


def test_coal_consumption(data_dir: Path) -> None:
    t = read_china_apparent_consumption(data_dir / APPARENT)
    assert set(t["variable"]) == {"coal_consumption"} and (t["source"] == "china_apparent_consumption").all()
    steam = raw_cell(data_dir / APPARENT, "2023-07", "Consumption: Steam Coal: Domestic: Total")
    coking = raw_cell(data_dir / APPARENT, "2023-07", "Consumption: Coking Coal")
    assert t.loc[t["period"] == "2023-07-01", "value"].item() == pytest.approx((steam + coking) / 100)
    assert year_sum(t, "coal_consumption", 2023) == pytest.approx(4633.04)
    assert t["period"].min() == pd.Timestamp("2009-03-01")
    assert not t["period"].isin(pd.to_datetime(["2014-01-01", "2014-02-01"])).any()  # empty in the file


def test_province_codes_match_natural_earth(data_dir: Path) -> None:
    ne = json.loads((data_dir / "boundaries/ne_50m_admin_1_states_provinces_9countries.geojson").read_text())
    cn = {f["properties"]["name_zh"]: f["properties"]["iso_3166_2"] for f in ne["features"]
          if f["properties"].get("iso_3166_2", "").startswith("CN-")}
    assert len(cn) == 31
    assert all(PROVINCE_CODES[name] == code for name, code in cn.items())


def test_province_thermal(data_dir: Path) -> None:
    only = read_china_province_thermal_monthly(data_dir / PROV_M)
    assert only["region"].nunique() == 31 and (only["iso3"] == "CHN").all()
    assert not only["period"].dt.month.isin([1, 2]).any()  # 0.0 in the file = not published
    assert (only["period"].min(), only["period"].max()) == (pd.Timestamp("2019-03-01"), pd.Timestamp("2022-12-01"))
    beijing = only[(only["region"] == "CN-BJ") & (only["period"] == "2022-12-01")]
    assert beijing["value"].item() == pytest.approx(5.31)  # 53.1 亿kWh
    full = read_china_province_thermal_monthly(data_dir / PROV_M, data_dir / PROV_Y)
    assert len(full) == 31 * 50 and full["period"].max() == pd.Timestamp("2023-02-01")
    jf = full[full["period"].isin(pd.to_datetime(["2023-01-01", "2023-02-01"]))]["value"].sum()
    ytd = pd.read_csv(data_dir / PROV_Y)
    assert jf == pytest.approx(ytd.loc[ytd["date"] == "2023年2月", "data"].sum() / 10)
    assert sorted(combined_jan_feb(full)["year"].unique()) == [2019, 2020, 2021, 2022, 2023]
    # provinces add up to about the national NBS thermal figure (different survey releases)
    nat = read_china_industry_monthly(data_dir / POWER)
    nat19 = year_sum(nat, "generation_thermal", 2019)
    assert full[full["period"].dt.year == 2019]["value"].sum() == pytest.approx(nat19, rel=0.02)


def test_january_released_with_february(power: pd.DataFrame) -> None:
    jan = power[(power["period"] == "2023-01-01") & (power["variable"] == "generation_thermal")]
    assert len(published_by(jan, "2023-02-25")) == 1  # the plain lag would say so ...
    assert len(nbs_published_by(jan, "2023-02-25")) == 0  # ... but NBS releases January with February
    assert len(nbs_published_by(jan, "2023-03-20")) == 1
    feb = power[(power["period"] == "2023-02-01") & (power["variable"] == "generation_thermal")]
    assert len(nbs_published_by(feb, "2023-03-19")) == 0 and len(nbs_published_by(feb, "2023-03-20")) == 1


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8-sig").splitlines(keepends=True)


def test_bad_wind_exports(data_dir: Path, tmp_path: Path) -> None:
    src = lines(data_dir / INDUSTRY)
    p = tmp_path / "monthly_industry_stats.csv"
    p.write_text("".join(src[:40]) + src[40][:30], encoding="utf-8")  # cut inside a row
    with pytest.raises(IngestError, match="truncated file"):
        read_china_industry_monthly(p)
    unit = [ln.replace("10000 tons", "tons") if ln.startswith("Unit,") else ln for ln in src]
    p.write_text("".join(unit), encoding="utf-8")
    with pytest.raises(IngestError, match="'Output: Raw Coal: YTD' is in 'tons', expected '10000 tons'"):
        read_china_industry_monthly(p)
    p.write_text("".join(src[:50] + [src[49]] + src[50:]), encoding="utf-8")
    with pytest.raises(IngestError, match="appears twice"):
        read_china_industry_monthly(p)
    p.write_text("".join(src[:50] + [src[50].replace(".", "x", 3)] + src[51:]), encoding="utf-8")
    with pytest.raises(IngestError, match="is not a number"):
        read_china_industry_monthly(p)
    p.write_text("".join(src[:50] + [src[50].replace("-", "/", 1)] + src[51:]), encoding="utf-8")
    with pytest.raises(IngestError, match="neither a header nor a YYYY-MM month"):
        read_china_industry_monthly(p)
    p.write_text("Name,a,b\n2020-01,1,2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="not a Wind export"):
        read_china_industry_monthly(p)
    big = [ln.replace('"101,908.13 "', '"10,190,813.00 "') for ln in src]  # crude steel Dec 2023 x 100
    p.write_text("".join(big), encoding="utf-8")
    with pytest.raises(IngestError, match="crude_steel .* exceeds 150: wrong units"):
        read_china_industry_monthly(p)


def test_bad_province_files(data_dir: Path, tmp_path: Path) -> None:
    src = lines(data_dir / PROV_M)
    p = tmp_path / "火电当月.csv"
    p.write_text("".join(src[:30] + [src[29]]), encoding="utf-8")
    with pytest.raises(IngestError, match="duplicate 河北省 2022-12"):
        read_china_province_thermal_monthly(p)
    p.write_text("".join(src[:5] + [src[5].replace("北京市", "北京")]), encoding="utf-8")
    with pytest.raises(IngestError, match=r"unknown province name\(s\) \['北京'\]"):
        read_china_province_thermal_monthly(p)
    p.write_text("".join(src[:5] + [src[5].replace("年", "-")]), encoding="utf-8")
    with pytest.raises(IngestError, match="is not like 2022年3月"):
        read_china_province_thermal_monthly(p)
    p.write_text("".join(src[:3] + [src[3].replace("53.1", "531000.0")] + src[4:]), encoding="utf-8")
    with pytest.raises(IngestError, match="exceeds 100: wrong units"):
        read_china_province_thermal_monthly(p)


def test_adapters_write_and_refuse(data_dir: Path, tmp_path: Path) -> None:
    a = NBSChinaMonthlyAdapter()
    paths = [data_dir / INDUSTRY, data_dir / POWER, data_dir / APPARENT]
    t = a.read(paths)
    assert {"crude_steel", "generation_thermal", "crude_processing"} <= set(t["variable"])
    out = a.write(t, tmp_path / "nbs.parquet", inputs=paths)
    back = pd.read_parquet(out)
    assert len(back) == len(t)
    assert read_parquet_provenance(out)["source_name"] == "nbs_china_monthly"
    with pytest.raises(IngestError, match="duplicate"):
        a.read([data_dir / POWER, data_dir / POWER])
    with pytest.raises(IngestError, match="duplicate"):
        a.write(pd.concat([t, t.iloc[:1]]), tmp_path / "dup.parquet")
    assert not (tmp_path / "dup.parquet").exists()
    prov = NBSChinaProvinceAdapter()
    assert len(prov.read([data_dir / PROV_Y, data_dir / PROV_M])) == 31 * 50
    with pytest.raises(IngestError, match="one provincial monthly file"):
        prov.read([data_dir / PROV_Y])
    assert len(ChinaApparentConsumptionAdapter().read([data_dir / APPARENT])) == 188


def test_download_from_the_carrier_repositories(publisher, data_dir: Path, tmp_cache: Path) -> None:
    base, routes, hits = publisher
    names = {"monthly_industry_stats.csv": INDUSTRY, "power_generation_by_type.csv": POWER,
             "apparent_consumption_of_fossils.csv": APPARENT, "火电当月.csv": PROV_M, "火电累计.csv": PROV_Y}
    for name, rel in names.items():
        body = (data_dir / rel).read_bytes()
        routes[("GET", f"/raw/{name}")] = lambda q, h, b, body=body: (200, "text/csv", body)
    got = NBSChinaMonthlyAdapter(base_url=f"{base}/raw").download(date(2023, 1, 1), date(2023, 12, 31))
    assert [p.name for p in got] == ["monthly_industry_stats.csv", "power_generation_by_type.csv",
                                     "apparent_consumption_of_fossils.csv"]
    assert all(p.is_relative_to(tmp_cache / "downloads" / "nbs_china_monthly") for p in got)
    assert all(p.with_name(p.name + ".sha256").exists() for p in got)
    assert year_sum(NBSChinaMonthlyAdapter().read(got), "crude_steel", 2023) == pytest.approx(1019.08, abs=0.01)
    prov = NBSChinaProvinceAdapter(base_url=f"{base}/raw").download(date(2022, 1, 1), date(2022, 12, 31))
    assert [p.name for p in prov] == ["火电当月.csv", "火电累计.csv"]
    assert len(NBSChinaProvinceAdapter().read(prov)) == 31 * 50
    n = len(hits)
    NBSChinaMonthlyAdapter(base_url=f"{base}/raw").download(date(2023, 1, 1), date(2023, 12, 31))
    assert len(hits) == n  # served from the cache
    with pytest.raises(IngestError, match="answered HTTP 404"):  # not cached yet under this source
        ChinaApparentConsumptionAdapter(base_url=f"{base}/elsewhere").download(date(2023, 1, 1), date(2023, 1, 31))
    assert not list((tmp_cache / "downloads" / "china_apparent_consumption").glob("*.csv"))


def test_default_urls_are_the_pinned_commits() -> None:
    from ingest.china_monthly import CHINA_CO2_RAW, CM_CHINA_RAW

    assert CHINA_CO2_RAW == "https://raw.githubusercontent.com/energyandcleanair/china_co2/4043449a/inst/csv/"
    assert CM_CHINA_RAW.startswith("https://raw.githubusercontent.com/KowComical/CM_China_Database/e2474f99/")
