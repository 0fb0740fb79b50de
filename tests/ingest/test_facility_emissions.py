"""Reported facility CO2: US GHGRP, E-PRTR, EU ETS, Hotmaps, Israel PRTR, Canada GHGRP -> one table."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.base import IngestError
from ingest.boundaries import COUNTRIES_FILE
from ingest.eutl import EUTL_COUNTRIES, read_eutl
from ingest.facility_emissions import (
    CANADA_FILE,
    COLUMNS,
    EPRTR_FILE,
    EUTL_FILE,
    HOTMAPS_FILE,
    ISRAEL_FILE,
    FacilityEmissionsAdapter,
    read_canada_ghgrp,
    read_eprtr,
    read_facility_file,
    read_hotmaps,
    read_israel_prtr,
)
from ingest.ghgrp import GHGRP_FILE, GHGRPAdapter, read_ghgrp_long, read_ghgrp_workbook

CO2 = "CO2 emissions (non-biogenic)"


@pytest.fixture(scope="module")
def ghgrp(data_dir: Path) -> pd.DataFrame:
    return read_ghgrp_long(data_dir / GHGRP_FILE)


@pytest.fixture(scope="module")
def ghgrp_raw(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(data_dir / GHGRP_FILE, low_memory=False, dtype={"Primary NAICS Code": str, "Zip Code": str})


def _cut(src: Path, dest: Path, edit=None, nrows: int | None = 300, sep: str = ",") -> Path:
    raw = pd.read_csv(src, dtype=str, keep_default_na=False, nrows=nrows)
    if edit is not None:
        edit(raw)
    raw.to_csv(dest, index=False, sep=sep)
    return dest


# ------------------------------------------------------------------ US GHGRP

def test_ghgrp_2023_facts(ghgrp: pd.DataFrame, ghgrp_raw: pd.DataFrame) -> None:
    assert tuple(ghgrp.columns) == COLUMNS
    assert (ghgrp_raw["reporting_year"] == 2023).sum() == 6470  # direct emitters reporting in 2023
    y = ghgrp[ghgrp["year"] == 2023]
    assert len(y) == 5811 and y["facility_id"].is_unique  # those reporting fossil CO2
    assert y["co2_t"].sum() / 1e9 == pytest.approx(2.2277, abs=1e-4)  # 2.23 Gt fossil CO2
    assert sorted(ghgrp["year"].unique()) == [*range(2010, 2021), 2022, 2023]
    assert set(y["co2_basis"]) == {"co2"} and set(y["source"]) == {"us_ghgrp"}
    raw = ghgrp_raw[(ghgrp_raw["reporting_year"] == 2023) & ghgrp_raw[CO2].notna()]
    is_power = raw["Primary NAICS Code"].str.startswith("2211") | (raw["Industry Type (sectors)"] == "Power Plants")
    assert y.loc[y["sector"] == "power", "co2_t"].sum() == pytest.approx(raw.loc[is_power, CO2].sum())
    assert y.loc[y["sector"] == "power", "co2_t"].sum() / 1e6 == pytest.approx(1450.1, abs=0.1)
    assert y.loc[y["sector"] == "industry", "co2_t"].sum() / 1e6 == pytest.approx(742.1, abs=0.1)
    states = raw.groupby("State")[CO2].sum().sort_values(ascending=False)
    ours = y.groupby("region")["co2_t"].sum().sort_values(ascending=False)
    assert list(ours.index[:5]) == ["US-" + s for s in states.index[:5]] == ["US-TX", "US-LA", "US-IN", "US-FL", "US-OH"]
    assert y.loc[y["region"].isna(), "iso3"].value_counts().to_dict() == {"PRI": 20, "GUM": 8, "VIR": 5}
    assert (~ghgrp["located"]).sum() == ghgrp_raw.loc[ghgrp_raw[CO2].notna(), "Latitude"].isna().sum()


def test_ghgrp_subsectors(ghgrp: pd.DataFrame) -> None:
    y = ghgrp[ghgrp["year"] == 2023].set_index("facility_id")
    assert y.loc["US-GHGRP:1000001", "sector"] == "power"  # PSE Ferndale Generating Station, NAICS 221112
    sub = y.groupby("subsector")["co2_t"].sum()
    assert sub.nlargest(3).index.tolist() == ["electricity", "chemicals", "refineries"]
    assert {"cement", "steel", "oil_gas", "paper", "waste"} <= set(sub.index)
    assert y.loc[y["subsector"] == "waste", "sector"].eq("other").all()


def _workbook(rows: pd.DataFrame) -> bytes:
    """EPA's ghgp_data_2023.xlsx layout: 3 title rows, then the header (some names end in a space)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Direct Point Emitters"
    ws.append(["Summary data collected by the Greenhouse Gas Reporting Program for 2023"])
    ws.append(["This data was reported to EPA by facilities as of 8/16/2024"])
    ws.append(["All emissions data is presented in units of metric tons of carbon dioxide equivalent"])
    cols = [c for c in rows.columns if c != "reporting_year"]
    ws.append([c + " " if c.startswith(("CO2 emissions", "Methane")) else c for c in cols])
    for r in rows[cols].itertuples(index=False):
        ws.append([None if pd.isna(v) else v for v in r])
    ws2 = wb.create_sheet("FAQs about this Data")
    ws2.append(["not data"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_ghgrp_download_of_epa_workbooks(publisher, ghgrp: pd.DataFrame, ghgrp_raw: pd.DataFrame,
                                         tmp_cache: Path) -> None:
    base, routes, _ = publisher
    rows = ghgrp_raw[ghgrp_raw["reporting_year"] == 2023].head(40)
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("ghgp_data_2023.xlsx", _workbook(rows))
        z.writestr("ghgp_data_by_year_2023.xlsx", b"not read")
    routes[("GET", "/files/2024-10/2023_data_summary_spreadsheets.zip")] = lambda q, h, b: (
        200, "application/zip", zbuf.getvalue())
    a = GHGRPAdapter()
    a.url = f"{base}/files/{{released}}-10/{{year}}_data_summary_spreadsheets.zip"
    paths = a.download(date(2023, 1, 1), date(2023, 12, 31))
    got = a.read(paths)
    want = ghgrp[(ghgrp["year"] == 2023) & ghgrp["facility_id"].isin(got["facility_id"])].reset_index(drop=True)
    assert len(got) == rows[CO2].notna().sum() == len(want)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)
    with pytest.raises(IngestError, match="2030 is not published"):
        a.download(date(2030, 1, 1), date(2030, 12, 31))


def test_ghgrp_bad_workbook(tmp_path: Path) -> None:
    p = tmp_path / "ghgp_data_2023.xlsx"
    p.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(IngestError, match="not a readable xlsx"):
        read_ghgrp_workbook(p)


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.__setitem__(CO2, (pd.to_numeric(r[CO2]) * 1000).astype(str)), "wrong units"),
    (lambda r: r.loc.__setitem__(5, r.loc[4]), "duplicate facility-year"),
    (lambda r: r.drop(columns=["Latitude"], inplace=True), "lacks the column"),
    (lambda r: r.loc.__setitem__((7, CO2), "1.2e5 t"), "non-numeric CO2"),
    (lambda r: r.loc.__setitem__((3, CO2), "-5"), ">= 0"),
])
def test_ghgrp_malformed(data_dir: Path, tmp_path: Path, edit, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        read_ghgrp_long(_cut(data_dir / GHGRP_FILE, tmp_path / "ghgrp.csv", edit))


# ------------------------------------------------------------------ EU and Israel registers

def test_eprtr_facts(data_dir: Path) -> None:
    e = read_eprtr(data_dir / EPRTR_FILE)
    assert tuple(e.columns) == COLUMNS and e["facility_id"].nunique() == 4298 and e["iso3"].nunique() == 39
    total = e.groupby("year")["co2_t"].sum() / 1e9
    assert total[2007] == pytest.approx(2.068, abs=1e-3) and total[2021] == pytest.approx(1.142, abs=1e-3)
    raw = pd.read_csv(data_dir / EPRTR_FILE)
    thermal = raw.loc[raw["original_inventory_sector"] == "Thermal power stations", "co2_tonnes"].sum()
    assert e.loc[e["sector"] == "power", "co2_t"].sum() == pytest.approx(thermal)
    assert e["located"].all() and set(e["co2_basis"]) == {"co2"}


def test_hotmaps_facts(data_dir: Path) -> None:
    h = read_hotmaps(data_dir / HOTMAPS_FILE)
    raw = pd.read_csv(data_dir / HOTMAPS_FILE)
    assert raw["SiteID"].nunique() == 5029 and (h["year"] == 2014).all()
    assert h.loc[h["co2_basis"] == "co2e", "co2_t"].sum() / 1e6 == pytest.approx(547.2, abs=0.1)  # ETS 2014
    assert len(h) == (raw["Emissions_ETS_2014"].notna() | raw["Emissions_EPRTR_2014"].notna()).sum()
    kept = raw[raw["Emissions_ETS_2014"].notna() | raw["Emissions_EPRTR_2014"].notna()]
    assert (~h["located"]).sum() == kept["geom"].isna().sum() and h.loc[~h["located"], "lon"].isna().all()
    ets = h[h["co2_basis"] == "co2e"]
    assert set(h["sector"]) == {"industry"} and ets.groupby("subsector")["co2_t"].sum().idxmax() == "cement"
    assert h.loc[h["facility_id"] == "EU-HOTMAPS:2", ["lon", "lat"]].values.tolist() == [[14.343056, 48.281944]]


def test_israel_and_canada_facts(data_dir: Path) -> None:
    il = read_israel_prtr(data_dir / ISRAEL_FILE)
    assert il["facility_id"].nunique() == 475 and (il["year"].min(), il["year"].max()) == (2012, 2022)
    assert il.loc[il["year"] == 2012, "co2_t"].sum() / 1e6 == pytest.approx(56.41, abs=0.01)
    assert il.groupby("sector")["co2_t"].sum().idxmax() == "power"  # "351 Production ... of electricity"
    ca = read_canada_ghgrp(data_dir / CANADA_FILE)
    assert ca["facility_id"].nunique() == 2383 and not ca["located"].any() and set(ca["co2_basis"]) == {"co2e"}
    assert ca.loc[ca["year"] == 2019, "co2_t"].sum() / 1e6 == pytest.approx(293.09, abs=0.01)
    assert ca["region"].dropna().str.fullmatch(r"CA-[A-Z]{2}").all()


def test_eutl_keeps_positioned_installations(data_dir: Path) -> None:
    u = read_eutl([data_dir / EUTL_FILE], data_dir / COUNTRIES_FILE)
    raw = pd.read_csv(data_dir / EUTL_FILE, low_memory=False)
    v22 = pd.to_numeric(raw["VerifiedEmissions_2022"], errors="coerce")
    placed = raw["Latitude"].notna() & ~((raw["Latitude"] == 0) & (raw["Longitude"] == 0))
    share = v22[placed].sum() / v22.sum()
    assert share == pytest.approx(0.195, abs=0.001)  # only ~19.5 % of 2022 emissions carry coordinates
    y = u[u["year"] == 2022]
    assert y["co2_t"].sum() == pytest.approx(v22[placed].sum())
    assert u["facility_id"].nunique() == 2186 and set(u["co2_basis"]) == {"co2e"}
    assert not u.loc[u["iso3"] == "HRV", "located"].any()  # Croatia's are all (lat, lon) swapped
    assert u.loc[u["iso3"] == "POL", "located"].mean() > 0.9
    assert 0.8 < y.loc[y["located"], "co2_t"].sum() / y["co2_t"].sum() < 0.9
    assert set(u["sector"]) == {"power", "industry", "other"} and y.loc[y["sector"] == "power", "co2_t"].sum() > 150e6


def test_dispatch_by_columns(data_dir: Path) -> None:
    got = {f: read_facility_file(data_dir / f, data_dir / COUNTRIES_FILE)["source"].iloc[0]
           for f in (EPRTR_FILE, HOTMAPS_FILE, ISRAEL_FILE, CANADA_FILE)}
    assert list(got.values()) == ["eprtr", "hotmaps", "israel_prtr", "canada_ghgrp"]


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.loc.__setitem__((2, "original_inventory_sector"), "Alchemy"), "unknown E-PRTR activities"),
    (lambda r: r.__setitem__("co2_tonnes", (pd.to_numeric(r["co2_tonnes"]) * 1000).astype(str)), "wrong units"),
    (lambda r: r.loc.__setitem__((4, "lat"), "95.2"), "outside lon/lat bounds"),
    (lambda r: r.loc.__setitem__((2, "year"), r.loc[1, "year"]), "duplicate facility-year"),  # AustroCel 2008 -> 2007
])
def test_eprtr_malformed(data_dir: Path, tmp_path: Path, edit, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        read_eprtr(_cut(data_dir / EPRTR_FILE, tmp_path / "eprtr.csv", edit))


def test_truncated_files_and_failed_write(data_dir: Path, tmp_path: Path) -> None:
    for f in (HOTMAPS_FILE, EUTL_FILE):
        raw = (data_dir / f).read_bytes()
        cut = tmp_path / Path(f).name
        cut.write_bytes(raw[: len(raw) // 2])
        with pytest.raises(IngestError):
            read_facility_file(cut, data_dir / COUNTRIES_FILE)
    il = read_israel_prtr(data_dir / ISRAEL_FILE)
    out = tmp_path / "out" / "facilities.parquet"
    with pytest.raises(IngestError, match="duplicate"):
        FacilityEmissionsAdapter().write(pd.concat([il, il.head(2)]), out)
    assert not out.exists()
    assert FacilityEmissionsAdapter().write(il, out, inputs=[data_dir / ISRAEL_FILE]).exists()


def test_download_from_the_carriers(publisher, data_dir: Path, tmp_path: Path, tmp_cache: Path) -> None:
    base, routes, hits = publisher

    def zipped(src: Path, name: str, extra_gas: bool = False) -> bytes:
        t = pd.read_csv(src, dtype=str, keep_default_na=False, nrows=120)
        if extra_gas:  # the carrier's table may also hold other gases: only CO2 is kept
            t = pd.concat([t, t.head(3).assign(gas="ch4")], ignore_index=True)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, t.to_csv(index=False))
        return buf.getvalue()

    files = {"/ctt/eprtr.zip": zipped(data_dir / EPRTR_FILE, "eprtr.csv", extra_gas=True),
             "/ctt/isreal-prtr.zip": zipped(data_dir / ISRAEL_FILE, "isreal-prtr.csv"),
             "/hotmaps/Industrial_Database.csv": _cut(data_dir / HOTMAPS_FILE, tmp_path / "h.csv", sep=";").read_bytes()}
    eutl = pd.read_csv(data_dir / EUTL_FILE, dtype=str, keep_default_na=False)
    for cc in EUTL_COUNTRIES:
        files[f"/eutl/installations-{cc}.csv"] = eutl[eutl["Country"] == cc].head(150).to_csv(index=False).encode()
    for path, body in files.items():
        routes[("GET", path)] = lambda q, h, b, body=body: (200, "text/csv", body)
    a = FacilityEmissionsAdapter()
    a.urls = {"eprtr": f"{base}/ctt/eprtr.zip", "israel_prtr": f"{base}/ctt/isreal-prtr.zip",
              "hotmaps": f"{base}/hotmaps/Industrial_Database.csv"}
    a.eutl_url = f"{base}/eutl/installations-{{cc}}.csv"
    paths = a.download(date(2020, 1, 1), date(2020, 12, 31))
    assert len(paths) == 3 + len(EUTL_COUNTRIES) and len(hits) == len(paths)
    got = a.read(paths)
    assert set(got["source"]) == {"eprtr", "israel_prtr", "hotmaps", "eu_ets"}
    e = got[got["source"] == "eprtr"]
    assert len(e) == 120 and e.equals(read_eprtr(_cut(data_dir / EPRTR_FILE, tmp_path / "e.csv", nrows=120)))
    assert len(got[got["source"] == "hotmaps"]) == len(read_hotmaps(_cut(data_dir / HOTMAPS_FILE, tmp_path / "h2.csv")))
    assert got.loc[got["source"] == "eu_ets", "iso3"].nunique() > 10
