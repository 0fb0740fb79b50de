"""Carbon Monitor Power: the shipped monthly (vs IEA), China daily and data-sources files; broken copies."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.activity import COLUMNS, PUBLICATION_LAG_DAYS, published_by
from ingest.base import IngestError
from ingest.canonical import read_parquet_provenance
from ingest.cm_power import (
    CHINA_FILENAME,
    CMPowerAdapter,
    CMPowerIEAAdapter,
    monthly_coverage,
    read_cm_power_china_daily,
    read_cm_power_iea,
    read_cm_power_monthly,
    read_cm_power_sources,
    source_notes,
)

DIR = "electricity/cm-power"
MONTHLY = f"{DIR}/cm_power_monthly_by_country_fuel_vs_iea.csv.gz"
CHINA = f"{DIR}/cm_power_china_daily_by_fuel_gwh.csv.gz"
SOURCES = f"{DIR}/cm_power_data_sources_by_country.csv"


@pytest.fixture(scope="module")
def monthly(data_dir: Path) -> pd.DataFrame:
    return read_cm_power_monthly(data_dir / MONTHLY)


@pytest.fixture(scope="module")
def china(data_dir: Path) -> pd.DataFrame:
    return read_cm_power_china_daily(data_dir / CHINA)


def lines(data_dir: Path, rel: str) -> list[str]:
    with gzip.open(data_dir / rel, "rt", encoding="utf-8-sig") as f:
        return f.read().splitlines()


def cut(data_dir: Path, tmp_path: Path, rel: str, n: int = 66, name: str = "cut.csv") -> tuple[Path, list[str]]:
    """The header and the first ``n`` real lines (66 = six countries x 11 types)."""
    got = lines(data_dir, rel)[: n + 1]
    p = tmp_path / name
    p.write_text("\n".join(got) + "\n")
    return p, got


def test_monthly_schema_and_coverage(monthly: pd.DataFrame) -> None:
    assert list(monthly.columns) == list(COLUMNS)
    assert len(monthly) == 42_801  # 3,891 country-months x 11 types, no empty value
    assert set(monthly["unit"]) == {"TWh"} and set(monthly["frequency"]) == {"monthly"}
    assert set(monthly["source"]) == {"cm_power"} and (monthly["region"] == "").all()
    assert monthly["variable"].nunique() == 11
    cov = monthly_coverage(monthly).set_index("iso3")
    assert len(cov) == 45 and "EU28" in cov.index and "EU27" not in cov.index
    assert {"CHN", "USA", "IND", "JPN", "BRA", "TUR", "DEU", "GBR"} <= set(cov.index)
    assert (cov["last"] == pd.Timestamp("2026-03-01")).all()
    assert cov.loc["CRI", "first"] == pd.Timestamp("2021-01-01") and cov.loc["CRI", "months"] == 63
    assert (cov.drop("CRI")["months"] == 87).all()


def test_china_coal_2019_is_embers_number(monthly: pd.DataFrame, china: pd.DataFrame) -> None:
    m = monthly[(monthly["iso3"] == "CHN") & (monthly["variable"] == "generation_coal")
                & (monthly["period"].dt.year == 2019)]
    assert len(m) == 12 and m["value"].sum() == pytest.approx(4_553.8, abs=0.05)
    d = china[(china["variable"] == "generation_coal") & (china["period"].dt.year == 2019)]
    assert len(d) == 365 and d["value"].sum() / 1000 == pytest.approx(4_553.8, abs=0.05)


def test_china_daily_sums_to_the_monthly_file(monthly: pd.DataFrame, china: pd.DataFrame) -> None:
    assert list(china.columns) == list(COLUMNS)
    assert china["period"].min() == pd.Timestamp("2019-01-01") and china["period"].max() == pd.Timestamp("2023-02-28")
    assert len(china) == 1520 * 8 and set(china["unit"]) == {"GWh"} and set(china["iso3"]) == {"CHN"}
    for var in ("generation_coal", "generation_hydro", "generation_wind", "generation_solar", "generation_nuclear"):
        d = china[(china["variable"] == var) & (china["period"] < "2022-01-01")]
        sums = d.groupby(d["period"].dt.to_period("M"))["value"].sum() / 1000
        m = monthly[(monthly["iso3"] == "CHN") & (monthly["variable"] == var) & (monthly["period"] < "2022-01-01")]
        ref = m.set_index(m["period"].dt.to_period("M"))["value"]
        assert len(sums) == 36 and (sums - ref).abs().max() < 0.01, var


def test_iea_values(data_dir: Path, monthly: pd.DataFrame) -> None:
    iea = read_cm_power_iea(data_dir / MONTHLY)
    assert len(iea) == len(monthly) and set(iea["source"]) == {"cm_power_iea"}
    c = iea[(iea["iso3"] == "CHN") & (iea["variable"] == "generation_coal") & (iea["period"].dt.year == 2019)]
    assert c["value"].sum() == pytest.approx(4_583.04, abs=0.05)
    fr = iea[(iea["iso3"] == "FRA") & (iea["period"] == "2019-01-01")].set_index("variable")["value"]
    assert fr["generation_nuclear"] == pytest.approx(40.16) and fr["generation_total"] == pytest.approx(56.46)


def test_sources_and_lags(data_dir: Path, monthly: pd.DataFrame) -> None:
    s = read_cm_power_sources(data_dir / SOURCES).set_index("iso3")
    assert len(s) == 71 and s.loc["CHN", "update_frequency"] == "Monthly" and s.loc["USA", "source"] == "EIA"
    assert s.loc["EU28", "source"] == "Entsoe" and s.loc["IND", "starting_date"] == pd.Timestamp("2015-01-01")
    notes = source_notes(data_dir / SOURCES)
    assert notes["JPN"].startswith("OCCTO (Hourly data, updated monthly")
    assert PUBLICATION_LAG_DAYS["cm_power"] == 45 and PUBLICATION_LAG_DAYS["cm_power_iea"] == 105
    # March 2026 is usable 45 days after it ends, not before
    assert published_by(monthly, "2026-05-15")["period"].max() == pd.Timestamp("2026-03-01")
    assert published_by(monthly, "2026-05-14")["period"].max() == pd.Timestamp("2026-02-01")


def test_malformed_monthly_raise(data_dir: Path, tmp_path: Path) -> None:
    p, got = cut(data_dir, tmp_path, MONTHLY)
    assert len(read_cm_power_monthly(p)) == 66
    p.write_text("\n".join(got[:40]) + "\n2019,1,Brazil,hyd")  # truncated inside a row
    with pytest.raises(IngestError, match=r"unknown type\(s\) \['hyd'\]"):
        read_cm_power_monthly(p)
    p.write_text("\n".join(l.rsplit(",", 1)[0] for l in got) + "\n")  # the iea column lost
    with pytest.raises(IngestError, match=r"lacks the column\(s\) \['iea'\]"):
        read_cm_power_monthly(p)
    p.write_text("\n".join(got + [got[5]]) + "\n")
    with pytest.raises(IngestError, match="duplicate .* for Argentina 2019-01"):
        read_cm_power_monthly(p)
    p.write_text("\n".join(got).replace("Argentina", "Argentinia") + "\n")
    with pytest.raises(IngestError, match="unknown country name 'Argentinia'"):
        read_cm_power_monthly(p)
    gz = tmp_path / "trunc.csv.gz"
    gz.write_bytes((data_dir / MONTHLY).read_bytes()[:20_000])
    with pytest.raises(IngestError, match="not a readable CSV"):
        read_cm_power_monthly(gz)


def test_wrong_units_and_broken_sums_raise(data_dir: Path, tmp_path: Path) -> None:
    p, _ = cut(data_dir, tmp_path, MONTHLY)
    raw = pd.read_csv(p)
    raw.assign(value=raw["value"] * 1000).to_csv(p, index=False)  # GWh: 9.96 TWh of fossil becomes 9,960
    with pytest.raises(IngestError, match="fossil 9960 for Argentina 2019-01 exceeds 1500 TWh: wrong units"):
        read_cm_power_monthly(p)
    bad = raw.copy()
    bad.loc[(bad["country"] == "Australia") & (bad["type"] == "coal"), "value"] += 3.0
    bad.to_csv(p, index=False)
    with pytest.raises(IngestError, match="fossil of Australia 2019-01 differs from coal \\+ gas \\+ oil"):
        read_cm_power_monthly(p)


def test_china_daily_checks(data_dir: Path, tmp_path: Path) -> None:
    got = lines(data_dir, CHINA)[:81]  # ten days
    p = tmp_path / "china.csv"
    p.write_text("\n".join(got) + "\n")
    assert len(read_cm_power_china_daily(p)) == 80
    raw = pd.read_csv(p)
    d = pd.to_datetime(raw["date"], format="%d/%m/%Y")
    raw.assign(date=d.dt.strftime("%m/%d/%Y")).to_csv(p, index=False)  # month/day swapped
    with pytest.raises(IngestError, match="name different days"):
        read_cm_power_china_daily(p)
    raw.assign(value=raw["value"] / 1000).to_csv(p, index=False)  # TWh instead of GWh
    with pytest.raises(IngestError, match="not in GWh per day"):
        read_cm_power_china_daily(p)
    raw.assign(sector=raw["sector"].replace("Hydroelectricity", "Hydro")).to_csv(p, index=False)
    with pytest.raises(IngestError, match=r"unknown sector\(s\) \['Hydro'\]"):
        read_cm_power_china_daily(p)
    pd.concat([raw, raw.iloc[[3]]]).to_csv(p, index=False)
    with pytest.raises(IngestError, match="duplicate generation_nuclear for CHN"):
        read_cm_power_china_daily(p)


def test_adapter_writes_and_bad_input_leaves_nothing(data_dir: Path, tmp_path: Path) -> None:
    a = CMPowerAdapter()
    files = [data_dir / MONTHLY, data_dir / CHINA, data_dir / SOURCES]
    t = a.read(files)
    assert set(t["source"]) == {"cm_power", "cm_power_china_daily"} and len(t) == 42_801 + 12_160
    out = a.write(t, tmp_path / "cm_power.parquet", inputs=files)
    assert len(pd.read_parquet(out)) == len(t)
    assert read_parquet_provenance(out)["source_name"] == "cm_power"
    iea = CMPowerIEAAdapter().read(files)
    assert set(iea["source"]) == {"cm_power_iea"}
    p, got = cut(data_dir, tmp_path, MONTHLY)
    p.write_text("\n".join(got[:30]) + "\n2019,1,Austria,coal,abc,0.1\n")
    target = tmp_path / "bad.parquet"
    with pytest.raises(IngestError, match="non-numeric value 'abc'"):
        a.write(a.read([p]), target)
    assert not target.exists()
    with pytest.raises(IngestError, match="not a CM Power file"):
        a.read([data_dir / "electricity/india-daily/CEA_DGR_data.csv"])


def test_download_from_a_local_publisher(publisher, data_dir: Path, tmp_cache: Path) -> None:
    base, routes, hits = publisher
    body = {"/m.csv": gzip.decompress((data_dir / MONTHLY).read_bytes()),
            "/s.csv": (data_dir / SOURCES).read_bytes(),
            "/china daily.csv": gzip.decompress((data_dir / CHINA).read_bytes())}
    for path, b in body.items():
        routes[("GET", path)] = lambda q, h, x, b=b: (200, "text/csv", b)
    urls = {"monthly": f"{base}/m.csv", "sources": f"{base}/s.csv", "china_daily": f"{base}/china%20daily.csv"}
    a = CMPowerAdapter(urls=urls)
    paths = a.download(date(2022, 1, 1), date(2022, 12, 31))
    assert [p.name for p in paths] == ["m.csv", "s.csv", CHINA_FILENAME]
    assert all(p.is_relative_to(tmp_cache / "downloads" / "cm_power") for p in paths)
    assert (paths[0].parent / "m.csv.sha256").exists()
    t = a.read(paths)
    assert t["period"].max() == pd.Timestamp("2026-03-01") and len(hits) == 3
    assert a.download(date(2022, 1, 1), date(2022, 12, 31)) == paths and len(hits) == 3  # cached
    assert len(a.download(date(2024, 1, 1), date(2024, 2, 1))) == 2  # the China file ends in 2023
    assert [p.name for p in CMPowerIEAAdapter(urls=urls).download(date(2024, 1, 1), date(2024, 2, 1))] == ["m.csv"]


def test_download_offline(dead_url: str, tmp_cache: Path) -> None:
    a = CMPowerAdapter(urls={"monthly": f"{dead_url}/m.csv"})
    with pytest.raises(IngestError, match="could not download .*m.csv.*are you offline"):
        a.download(date(2025, 1, 1), date(2025, 2, 1))
    with pytest.raises(IngestError, match="period is empty"):
        a.download(date(2025, 2, 1), date(2025, 1, 1))
