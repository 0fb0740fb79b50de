"""GEM Global Coal Plant Tracker (July 2024): the shipped units table, CO2 basis, operating years, download."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.base import IngestError
from ingest.canonical import read_parquet_provenance
from ingest.gem_coal import (
    DIR,
    PARAMETERS_FILE,
    UNIT_COLUMNS,
    UNITS_FILE,
    WORKBOOK_URL,
    GEMCoalAdapter,
    annual_co2_mt,
    operating_in,
    read_co2_parameters,
    read_gem_coal_units,
)
from ingest.gem_common import DroppedRowsWarning


@pytest.fixture(scope="module")
def units(data_dir: Path) -> pd.DataFrame:
    return read_gem_coal_units(data_dir / DIR / UNITS_FILE, data_dir / DIR / PARAMETERS_FILE)


def raw_rows(data_dir: Path, n: int | None = None) -> pd.DataFrame:
    """The real units table as text (first ``n`` rows), to cut and spoil in a test."""
    df = pd.read_csv(data_dir / DIR / UNITS_FILE, dtype=str, keep_default_na=False)
    return df if n is None else df.head(n).copy()


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def test_schema_and_file_facts(units: pd.DataFrame) -> None:
    assert tuple(units.columns) == UNIT_COLUMNS
    assert len(units) == 14004 and units.attrs["dropped_no_coords"] == []  # shared README: 14,004 units
    assert units["unit_id"].is_unique
    assert str(units["start_year"].dtype) == "Int64" and str(units["retired_year"].dtype) == "Int64"
    op = units[units["status"] == "operating"]
    assert len(op) == 6525  # shared README: 6,525 operating
    assert 2125.0 < op["capacity_mw"].sum() / 1e3 < 2126.0  # ~2,126 GW
    assert set(units["status"]) == {"operating", "construction", "retired", "mothballed", "cancelled", "shelved",
                                    "permitted", "announced", "pre-permit"}
    assert units["lat"].between(-90, 90).all() and units["lon"].between(-180, 180).all()
    # retired units carry their actual year, never a planned one
    ret = units[units["status"] == "retired"]
    assert not ret["retirement_planned"].any() and ret["retired_year"].notna().sum() == 2903


def test_co2_parameters_and_basis(data_dir: Path, units: pd.DataFrame) -> None:
    p = read_co2_parameters(data_dir / DIR / PARAMETERS_FILE)
    assert p.capacity_factor == 0.53
    assert p.emission_factor_kg_per_tj["bituminous"] == 94600 and p.emission_factor_kg_per_tj["lignite"] == 101000
    assert p.heat_rate_btu_per_kwh["subcritical"] == 8702 and p.heat_rate_btu_per_kwh["igcc"] == 7528
    # the GEM column "Annual CO2" of the first unit (Porto Romano, 800 MW USC bituminous) is 3.0667 Mt
    first = units.iloc[0]
    assert first["unit_id"] == "G100000108106"
    assert annual_co2_mt(units.iloc[[0]]).iloc[0] == pytest.approx(3.06666527582976, rel=1e-4)
    # heat rates include GEM's age/size penalties: never below the technology's base rate
    base = units["combustion_technology"].map(p.heat_rate_btu_per_kwh)
    assert (units["heat_rate_btu_per_kwh"] >= base).all()


def test_operating_in(units: pd.DataFrame) -> None:
    now = operating_in(units, 2024)
    assert set(now["unit_id"]) == set(units.loc[units["status"] == "operating", "unit_id"])
    assert now.attrs["retired_without_year"] == 52
    la_maxe = units[units["plant_name"] == "La Maxe power station"]
    assert list(la_maxe["retired_year"]) == [2015, 2015]
    assert len(operating_in(la_maxe, 2014)) == 2 and len(operating_in(la_maxe, 2015)) == 0
    cordemais = units[units["plant_name"] == "Cordemais power station"]  # planned retirement 2027
    assert cordemais["retirement_planned"].all() and set(cordemais["retired_year"]) == {2027}
    assert len(operating_in(cordemais, 2026)) == 2 and len(operating_in(cordemais, 2027)) == 0
    # a unit under construction runs from its expected start only after the snapshot year
    rio2 = units[units["unit_id"] == "G100000108586"]  # Río Turbio unit 2, construction, start 2023
    assert len(operating_in(rio2, 2024)) == 0 and len(operating_in(rio2, 2025)) == 1
    never = units[units["status"].isin(["cancelled", "shelved", "announced", "permitted", "pre-permit"])]
    assert len(operating_in(never, 2040)) == 0
    assert len(operating_in(units[units["status"] == "mothballed"], 2024)) == 0


def test_france_retirements(units: pd.DataFrame) -> None:
    fr = units[units["iso3"] == "FRA"]
    retired = fr[(fr["status"] == "retired") & (fr["retired_year"] < 2024)]
    assert len(retired) == 25  # 23 in metropolitan France + 2 at Bois-Rouge (Réunion, listed as France)
    assert {"La Maxe power station", "Lucy-3 power station"} <= set(retired["plant_name"])
    # Porcheville and Aramon burnt fuel oil: they are not in a coal tracker
    assert not fr["plant_name"].str.contains("Porcheville|Aramon").any()


def test_write_parquet(units: pd.DataFrame, data_dir: Path, tmp_path: Path) -> None:
    out = GEMCoalAdapter().write(units, tmp_path / "gem_coal.parquet", inputs=[data_dir / DIR / UNITS_FILE])
    back = pd.read_parquet(out)
    assert len(back) == 14004 and str(back["start_year"].dtype) == "Int64"
    prov = read_parquet_provenance(out)
    assert prov["source_name"] == "gem_coal" and prov["license"] == "CC-BY-4.0"


def test_validate_refuses_and_writes_nothing(units: pd.DataFrame, tmp_path: Path) -> None:
    bad = units.head(3).copy()
    bad.loc[bad.index[1], "unit_id"] = bad["unit_id"].iloc[0]
    with pytest.raises(IngestError, match="occurs more than once"):
        GEMCoalAdapter().write(bad, tmp_path / "x.parquet")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("spoil", "match"), [
    (lambda d: d.drop(columns=["Latitude"]), r"lacks the column\(s\) \['Latitude'\]"),
    (lambda d: d.assign(**{"Capacity (MW)": (d["Capacity (MW)"].astype(float) * 1000).astype(str)}),
     "median .* MW per unit .*factor of 1000"),
    (lambda d: d.assign(**{"Emission factor (kg of CO2 per TJ)": "94.6"}), "kg CO2/TJ"),
    (lambda d: pd.concat([d, d.tail(1)]), "unit id 'G.*' occurs more than once"),
    (lambda d: d.assign(Latitude=d["Longitude"], Longitude=d["Latitude"]), "no valid coordinates"),
    (lambda d: d.assign(Status=d["Status"].replace("operating", "running")), r"unknown status .*'running'"),
    (lambda d: d.assign(**{"Country/Area": "Atlantis"}), "unknown or missing country name.*Atlantis"),
])
def test_malformed_units(data_dir: Path, tmp_path: Path, spoil, match: str) -> None:
    path = write(spoil(raw_rows(data_dir, 300)), tmp_path / "units.csv")
    with pytest.raises(IngestError, match=match):
        read_gem_coal_units(path)


def test_co2_check_catches_one_unit_in_kw(data_dir: Path, tmp_path: Path) -> None:
    d = raw_rows(data_dir, 300)
    d.loc[5, "Capacity (MW)"] = str(float(d.loc[5, "Capacity (MW)"]) * 1000)
    with pytest.raises(IngestError, match=f"unit {d.loc[5, 'GEM unit/phase ID']}: capacity x CF"):
        read_gem_coal_units(write(d, tmp_path / "units.csv"))


def test_parameters_mismatch(data_dir: Path, tmp_path: Path) -> None:
    text = (data_dir / DIR / PARAMETERS_FILE).read_text().replace("bituminous,94600,Bituminous",
                                                                  "bituminous,95000,Bituminous")
    (tmp_path / "params.csv").write_text(text)
    path = write(raw_rows(data_dir, 300), tmp_path / "units.csv")
    with pytest.raises(IngestError, match="bituminous.*94600 kg/TJ, GEM's parameters say 95000"):
        read_gem_coal_units(path, tmp_path / "params.csv")
    (tmp_path / "p2.csv").write_text("Coal,Emission factor (kg of CO2 per TJ)\nlignite,101\n")
    with pytest.raises(IngestError, match="no emission factor, heat rate"):
        read_co2_parameters(tmp_path / "p2.csv")


def test_truncated_files(data_dir: Path, tmp_path: Path) -> None:
    body = (data_dir / DIR / UNITS_FILE).read_bytes()
    (tmp_path / "cut.csv.gz").write_bytes(body[: len(body) // 2])
    with pytest.raises(IngestError, match="truncated or corrupt gzip"):
        read_gem_coal_units(tmp_path / "cut.csv.gz")
    text = gzip.decompress(body)[:200_000]
    (tmp_path / "cut.csv").write_bytes(text[: text.rfind(b"\n") + 40])  # ends inside a row
    with pytest.raises(IngestError, match="does not end with a newline: the file is truncated"):
        read_gem_coal_units(tmp_path / "cut.csv")


def test_few_rows_without_coordinates_are_dropped_with_a_warning(data_dir: Path, tmp_path: Path) -> None:
    d = raw_rows(data_dir, 300)
    d.loc[[3, 7], "Latitude"] = ""
    with pytest.warns(DroppedRowsWarning, match="dropped 2 row"):
        out = read_gem_coal_units(write(d, tmp_path / "units.csv"))
    assert len(out) == 298 and out.attrs["dropped_no_coords"] == list(d.loc[[3, 7], "GEM unit/phase ID"])


def _workbook(data_dir: Path, path: Path, n: int = 200) -> Path:
    """A workbook laid out as GEM's (About, Units, CO2 parameters sheets) from the real shipped tables."""
    units = pd.read_csv(data_dir / DIR / UNITS_FILE).head(n)
    about = list(csv.reader(io.StringIO((data_dir / DIR / "gem_gcpt_about_2024-07.txt").read_text())))
    params = list(csv.reader(io.StringIO((data_dir / DIR / PARAMETERS_FILE).read_text())))
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame(about).to_excel(xw, sheet_name="About", header=False, index=False)
        units.to_excel(xw, sheet_name="Units", index=False)
        pd.DataFrame(params).to_excel(xw, sheet_name="CO2 Parameters", header=False, index=False)
    return path


def test_broken_workbook(data_dir: Path, tmp_path: Path) -> None:
    body = _workbook(data_dir, tmp_path / "gcpt.xlsx", n=20).read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(body[: len(body) // 2])
    with pytest.raises(IngestError, match="cut.xlsx is not a readable .xlsx workbook"):
        read_gem_coal_units(tmp_path / "cut.xlsx")
    with pytest.raises(IngestError, match="not a readable .xlsx workbook"):
        read_co2_parameters(tmp_path / "cut.xlsx")


def test_download_workbook_and_read(publisher, data_dir: Path, tmp_path: Path, tmp_cache: Path) -> None:
    base, routes, hits = publisher
    body = _workbook(data_dir, tmp_path / "gcpt.xlsx").read_bytes()
    routes[("GET", "/maps/trackers/coal-plant/GCPT July 2024.xlsx")] = lambda q, h, b: (200, "application/zip", body)
    ad = GEMCoalAdapter(urls=[f"{base}/maps/trackers/coal-plant/GCPT%20July%202024.xlsx"])
    paths = ad.download(date(2024, 1, 1), date(2024, 12, 31))
    assert [p.name for p in paths] == ["GCPT_July_2024.xlsx"]
    assert paths[0].is_relative_to(tmp_cache / "downloads" / "gem_coal")
    df = ad.read(paths)  # units and parameters from the one workbook
    assert len(df) == 200 and tuple(df.columns) == UNIT_COLUMNS
    assert ad.download(date(2024, 1, 1), date(2024, 1, 1)) == paths and len(hits) == 1  # cached


def test_download_csv_pair(publisher, data_dir: Path, tmp_cache: Path) -> None:
    base, routes, _ = publisher
    for name in (UNITS_FILE, PARAMETERS_FILE):
        routes[("GET", f"/{name}")] = lambda q, h, b, n=name: (200, "text/csv", (data_dir / DIR / n).read_bytes())
    ad = GEMCoalAdapter(urls=[f"{base}/{PARAMETERS_FILE}", f"{base}/{UNITS_FILE}"])
    assert len(ad.read(ad.download(date(2024, 1, 1), date(2024, 1, 1)))) == 14004


def test_default_url_and_offline(dead_url: str, tmp_cache: Path) -> None:
    assert WORKBOOK_URL.startswith("https://raw.githubusercontent.com/GlobalEnergyMonitor/maps/7b94491f/")
    assert GEMCoalAdapter.urls == (WORKBOOK_URL,)
    with pytest.raises(IngestError, match="could not download .* are you offline"):
        GEMCoalAdapter(urls=[f"{dead_url}/gcpt.xlsx"]).download(date(2024, 1, 1), date(2024, 1, 1))
