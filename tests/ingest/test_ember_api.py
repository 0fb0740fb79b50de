"""Ember data API tables: the shipped country and state files, their facts, and broken copies."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.activity import COLUMNS, PUBLICATION_LAG_DAYS
from ingest.base import IngestError
from ingest.ember_api import (
    FILES,
    EmberAPIAdapter,
    read_ember_api,
    read_ember_overview,
    read_ember_state_generation,
    read_ember_states,
)

DIR = "electricity/ember"
MONTHLY = f"{DIR}/api_country_overview_monthly.csv.gz"
YEARLY = f"{DIR}/api_country_overview_yearly.csv.gz"
USA = f"{DIR}/api_overview_usa_monthly.csv.gz"
IND = f"{DIR}/api_overview_ind_monthly.csv"
IND_GEN = f"{DIR}/api_generation_ind_monthly.csv.gz"
TUR = f"{DIR}/generation_tur_monthly.csv.gz"
SHIPPED = (MONTHLY, YEARLY, USA, IND, IND_GEN, TUR)


def text(data_dir: Path, rel: str) -> str:
    p = data_dir / rel
    return gzip.decompress(p.read_bytes()).decode() if p.suffix == ".gz" else p.read_text()


def value(t: pd.DataFrame, iso3: str, region: str, period: str, variable: str) -> float:
    sel = (t["iso3"] == iso3) & (t["region"] == region) & (t["period"] == period) & (t["variable"] == variable)
    return float(t.loc[sel, "value"].item())


def test_country_overview_monthly(data_dir: Path) -> None:
    m = read_ember_overview(data_dir / MONTHLY)
    assert list(m.columns) == list(COLUMNS) and set(m["source"]) == {"ember_monthly"}
    assert set(m["variable"]) == {"demand", "power_co2_intensity"}
    assert m["period"].min() == pd.Timestamp("2000-02-01") and m["period"].max() == pd.Timestamp("2025-04-01")
    assert m["iso3"].nunique() == 90 and {"WLD", "EU27"} <= set(m["iso3"])  # 88 countries + 2 aggregates
    assert not {"G20", "OECD", "Asia"} & set(m["iso3"])
    assert value(m, "WLD", "", "2025-04-01", "demand") == pytest.approx(2327.18)
    assert value(m, "WLD", "", "2025-04-01", "power_co2_intensity") == pytest.approx(458.697)
    assert value(m, "ARG", "", "2018-01-01", "demand") == pytest.approx(12.77)
    last = m[m["variable"] == "demand"].groupby("iso3")["period"].max()
    assert (last == pd.Timestamp("2025-04-01")).sum() == 46 and last["UKR"] == last.min() == pd.Timestamp("2022-09-01")


def test_country_overview_yearly(data_dir: Path) -> None:
    y = read_ember_overview(data_dir / YEARLY)
    assert set(y["frequency"]) == {"yearly"} and set(y["source"]) == {"ember_yearly"}
    assert y["iso3"].nunique() == 211 and y["period"].max() == pd.Timestamp("2024-01-01")
    assert value(y, "WLD", "", "2024-01-01", "demand") == pytest.approx(30_847.2)
    assert value(y, "CHN", "", "2024-01-01", "demand") == pytest.approx(10_056.6)
    assert value(y, "EU27", "", "2024-01-01", "power_co2_intensity") == pytest.approx(213.31)
    assert PUBLICATION_LAG_DAYS["ember_yearly"] == 120 and PUBLICATION_LAG_DAYS["ember_monthly"] == 60


def test_us_states(data_dir: Path) -> None:
    u = read_ember_states(data_dir / USA)
    assert set(u["source"]) == {"ember_states_usa"} and set(u["iso3"]) == {"USA"}
    assert u["region"].nunique() == 53 and {"", "US-TX", "US-DC", "US-PR", "US-WY"} <= set(u["region"])
    assert u["period"].min() == pd.Timestamp("2001-01-01") and u["period"].max() == pd.Timestamp("2025-01-01")
    assert value(u, "USA", "US-AL", "2001-01-01", "generation_total") == pytest.approx(11.32807)
    assert value(u, "USA", "US-AL", "2001-01-01", "power_co2") == pytest.approx(5.89368)
    g = u[u["variable"] == "generation_total"]
    us = g[g["region"] == ""].set_index("period")["value"]
    states = g[g["region"] != ""].groupby("period")["value"].sum()
    assert ((states / us - 1).abs() < 0.01).all()  # the states add up to US Total in every month
    y24 = g[(g["region"] == "") & (g["period"].dt.year == 2024)]["value"].sum()
    assert y24 == pytest.approx(4_384.79, abs=0.01)
    assert u.loc[u["region"] == "US-DC", "value"].min() < 0  # EIA net generation: kept as published


def test_india_states_demand_is_generation(data_dir: Path) -> None:
    o = read_ember_states(data_dir / IND)
    g = read_ember_state_generation(data_dir / IND_GEN)
    assert set(o["source"]) == set(g["source"]) == {"ember_states_ind"}
    assert o["region"].nunique() == 38 and {"", "IN-MH", "IN-DL", "IN-CT", "Others"} <= set(o["region"])
    assert o["period"].max() == pd.Timestamp("2025-02-01")
    w = g.pivot_table(index=["region", "period"], columns="variable", values="value")
    parts = w["generation_fossil"] + w["generation_nuclear"].fillna(0) + w["generation_renewables"]
    tot = o[o["variable"] == "generation_total"].set_index(["region", "period"])["value"]
    both = parts.dropna().index.intersection(tot.index)
    assert len(both) == 2_689 and (parts[both] - tot[both]).abs().max() < 1e-9
    y23 = o[(o["region"] == "") & (o["period"].dt.year == 2023)].groupby("variable")["value"].sum()
    assert y23["generation_total"] == pytest.approx(1_704.98, abs=0.01)
    assert y23["power_co2"] == pytest.approx(1_066.11, abs=0.01)
    delhi = o[(o["region"] == "IN-DL") & (o["period"].dt.year == 2023) & (o["variable"] == "generation_total")]
    assert delhi["value"].sum() == pytest.approx(4.25, abs=0.01)  # in-state generation, not Delhi's ~35 TWh use
    coal = g[(g["region"] == "") & (g["period"].dt.year == 2023) & (g["variable"] == "generation_coal")]
    assert coal["value"].sum() == pytest.approx(1_265.17, abs=0.01)
    assert not {"Clean", "Wind and solar"} & set(g["variable"])


def test_broken_inputs_raise(data_dir: Path, tmp_path: Path) -> None:
    lines = text(data_dir, USA).splitlines()
    p = tmp_path / "api_overview_usa_monthly.csv"
    head = lines[:1] + [l for l in lines[1:] if ",Alabama," in l][:24] + [l for l in lines[1:] if ",Texas," in l][:24]
    p.write_text("\n".join(head) + "\n")
    assert len(read_ember_states(p)) == 48 * 3
    raw = pd.read_csv(p)
    raw.assign(demand_gwh=raw["demand_gwh"] / 1000).to_csv(p, index=False)
    with pytest.raises(IngestError, match="in TWh rather than GWh"):
        read_ember_states(p)
    raw.rename(columns={"emissions_ktco2": "emissions_mtco2"}).to_csv(p, index=False)
    with pytest.raises(IngestError, match=r"lacks the column\(s\) \['emissions_ktco2'\]"):
        read_ember_states(p)
    raw.assign(emissions_ktco2=raw["demand_gwh"]).to_csv(p, index=False)
    with pytest.raises(IngestError, match="columns swapped or corrupted"):
        read_ember_states(p)
    pd.concat([raw, raw.iloc[[0]]]).to_csv(p, index=False)
    with pytest.raises(IngestError, match="duplicate generation_total for USA"):
        read_ember_states(p)
    raw.assign(state=raw["state"].replace("Texas", "Texass")).to_csv(p, index=False)
    with pytest.raises(IngestError, match=r"unknown state name\(s\) \['Texass'\]"):
        read_ember_states(p)
    raw.assign(date=raw["date"].str.replace("-01$", "-15", regex=True)).to_csv(p, index=False)
    with pytest.raises(IngestError, match="not the first of a month"):
        read_ember_states(p)
    p.write_text("\n".join(head[:20]) + "\nUnited States,Texas,2003-09-01,31")  # truncated row
    with pytest.raises(IngestError, match=r"row 21 is incomplete \(emissions_ktco2 is empty\): truncated"):
        read_ember_states(p)


def test_country_overview_units_and_aggregates(data_dir: Path, tmp_path: Path) -> None:
    lines = text(data_dir, YEARLY).splitlines()
    p = tmp_path / "api_country_overview_yearly.csv"
    p.write_text("\n".join(lines[:200]) + "\n")
    raw = pd.read_csv(p)
    raw.assign(emissions_intensity_gco2_per_kwh=raw["emissions_intensity_gco2_per_kwh"] / 1000).to_csv(p, index=False)
    with pytest.raises(IngestError, match="wrong units"):
        read_ember_overview(p)
    raw.assign(demand_twh=raw["demand_twh"] * 1e4).to_csv(p, index=False)
    with pytest.raises(IngestError, match="exceeds 40000: wrong units"):
        read_ember_overview(p)
    raw.assign(country_code=raw["country_code"].str.lower()).to_csv(p, index=False)
    with pytest.raises(IngestError, match="not an ISO 3166-1 alpha-3 code"):
        read_ember_overview(p)


def test_generation_aggregates_checked(data_dir: Path, tmp_path: Path) -> None:
    lines = text(data_dir, IND_GEN).splitlines()
    p = tmp_path / "api_generation_ind_monthly.csv"
    sel = lines[:1] + [l for l in lines[1:] if l.startswith("India,Maharashtra,2024-")]
    p.write_text("\n".join(sel) + "\n")
    assert len(read_ember_state_generation(p)) == 12 * 11
    raw = pd.read_csv(p)
    raw.loc[(raw["variable"] == "Coal") & (raw["date"] == "2024-03-01"), "generation_gwh"] += 500
    raw.to_csv(p, index=False)
    with pytest.raises(IngestError, match="Fossil of IN-MH 2024-03-01 is not the sum"):
        read_ember_state_generation(p)


def test_adapter_and_download(publisher, data_dir: Path, tmp_cache: Path, tmp_path: Path) -> None:
    base, routes, hits = publisher
    for name, rel in zip(FILES, SHIPPED, strict=True):
        body = text(data_dir, rel).encode()
        routes[("GET", f"/ember-climate/data/{name}")] = lambda q, h, b, body=body: (200, "text/csv", body)
    a = EmberAPIAdapter(base_url=f"{base}/ember-climate/data")
    paths = a.download(date(2024, 1, 1), date(2024, 12, 31))
    assert [p.name for p in paths] == list(FILES) and len(hits) == 6
    assert all(p.is_relative_to(tmp_cache / "downloads" / "ember_api") for p in paths)
    t = a.read(paths)
    assert set(t["source"]) == {"ember_monthly", "ember_yearly", "ember_states_usa", "ember_states_ind", "ember_states_tur"}
    out = a.write(t, tmp_path / "ember_api.parquet", inputs=paths)
    assert len(pd.read_parquet(out)) == len(t)
    assert a.download(date(2024, 1, 1), date(2024, 12, 31)) == paths and len(hits) == 6  # cached
    with pytest.raises(IngestError, match="overlapping files"):
        a.read([paths[0], paths[0]])
    bad = tmp_path / "bad.parquet"
    with pytest.raises(IngestError, match="not an Ember API table"):
        a.write(a.read([data_dir / "electricity/india-daily/POSOCO_coal_total_data.csv"]), bad)
    assert not bad.exists()
    assert read_ember_api(data_dir / IND)["source"].iloc[0] == "ember_states_ind"


def test_download_offline(dead_url: str, tmp_cache: Path) -> None:
    with pytest.raises(IngestError, match="could not download .*api_country_overview_monthly.csv.*offline"):
        EmberAPIAdapter(base_url=dead_url, files=FILES[:1]).download(date(2024, 1, 1), date(2024, 2, 1))


def test_turkiye_provinces_power_co2(data_dir: Path, tmp_path: Path) -> None:
    from ingest.admin1 import read_admin1
    from ingest.ember_api import TR_PROVINCES

    path = data_dir / "electricity" / "ember" / "generation_tur_monthly.csv.gz"
    t = read_ember_api(path)
    assert set(t.columns) == set(COLUMNS)
    co2 = t[t["variable"] == "power_co2"]
    assert co2["region"].nunique() == 81 and set(co2["iso3"]) == {"TUR"}
    assert co2["period"].min() == pd.Timestamp("2018-01-01") and co2["period"].max() == pd.Timestamp("2022-12-01")
    # power CO2 is the coal + gas + other fossil emissions of the file, in Mt
    raw = pd.read_csv(path)
    raw = raw[raw["date"].str.startswith("2022") & raw["variable"].isin(["Coal", "Gas", "Other Fossil"])]
    y2022 = co2[co2["period"].dt.year == 2022]
    assert y2022["value"].sum() == pytest.approx(raw["emissions_ktco2"].sum() / 1000.0)
    canakkale = y2022[y2022["region"] == "TR-17"]["value"].sum()
    assert canakkale == pytest.approx(raw[raw["state"] == "Çanakkale"]["emissions_ktco2"].sum() / 1000.0)
    # every province code is one of Natural Earth's Turkish admin-1 ids (the province level matches on them)
    ne = read_admin1(data_dir / "boundaries" / "ne_10m_admin_1_states_provinces.topo.json.gz")
    assert {f"TR-{c}" for c in TR_PROVINCES.values()} == set(ne.loc[ne["iso3"] == "TUR", "id"])
    # a file in TWh is refused, and an unknown province is named
    bad = pd.read_csv(path, nrows=400)
    bad.assign(generation_gwh=bad["generation_gwh"] / 1000.0).to_csv(tmp_path / "twh.csv", index=False)
    with pytest.raises(IngestError, match="implausibly small"):
        read_ember_api(tmp_path / "twh.csv")
    bad.assign(state=bad["state"].replace({"Adana": "Atlantis"})).to_csv(tmp_path / "unknown.csv", index=False)
    with pytest.raises(IngestError, match="Atlantis"):
        read_ember_api(tmp_path / "unknown.csv")
