"""Scheduled departures per airport (OPTD x OpenFlights, August 2016)."""

from __future__ import annotations

import bz2
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.airport_traffic import (
    DEPARTURES_FILE,
    OUT_COLUMNS,
    AirportTrafficAdapter,
    build_airport_departures,
    read_airport_departures,
)
from ingest.base import IngestError

FIX = Path(__file__).parent / "fixtures" / "aviation"
"""All OPTD 2016-08 segments leaving AAE, KEF and TOS, and the OpenFlights airports.dat lines they need."""


@pytest.fixture(scope="module")
def dep(data_dir: Path) -> pd.DataFrame:
    return read_airport_departures(data_dir / DEPARTURES_FILE)


def test_shipped_totals(dep: pd.DataFrame, data_dir: Path) -> None:
    assert tuple(dep.columns) == OUT_COLUMNS and len(dep) == 3446 and dep["iata"].is_unique
    assert dep["departures"].sum() == 3_034_918  # 99.3 % of OPTD's 3,056,818 (airports OpenFlights locates)
    assert dep["departures_domestic"].sum() == 2_008_580 and dep["departures_international"].sum() == 1_026_338
    assert (dep["departures"] == dep["departures_domestic"] + dep["departures_international"]).all()
    assert (dep["period"] == pd.Timestamp("2016-08-01")).all()
    top = dep.iloc[0]
    assert (top["iata"], top["icao"], top["iso3"], top["departures"]) == ("ATL", "KATL", "USA", 38472)
    assert dep["iso3"].notna().all() and dep["iso3"].nunique() == 229
    by = dep.groupby("iso3")["departures"].sum()
    assert by.idxmax() == "USA" and by["CHN"] == 348_448
    assert dep.loc[dep["iata"] == "CUR", "iso3"].item() == "CUW"  # OpenFlights' "Netherlands Antilles"
    raw = pd.read_csv(data_dir / DEPARTURES_FILE, keep_default_na=False)
    assert raw["departures"].sum() == dep["departures"].sum()


def test_rebuilt_from_the_published_files_matches(dep: pd.DataFrame) -> None:
    built = build_airport_departures(FIX / "optd_airline_segs_mthly_201608.csv", FIX / "airports.dat")
    assert sorted(built["iata"]) == ["AAE", "KEF", "TOS"]
    shipped = dep[dep["iata"].isin(["AAE", "KEF", "TOS"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(built.reset_index(drop=True), shipped, check_dtype=False)
    kef = built.set_index("iata").loc["KEF"]
    assert (kef["departures"], kef["departures_domestic"]) == (2617, 1)  # Keflavik: almost all international


def _cut(data_dir: Path, tmp_path: Path, edit) -> Path:
    raw = pd.read_csv(data_dir / DEPARTURES_FILE, keep_default_na=False, na_values=[""], nrows=40)
    edit(raw)
    p = tmp_path / "airport_departures_2016-08_cut.csv"
    raw.to_csv(p, index=False)
    return p


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.__setitem__("departures", r["departures"] * 12), "a yearly total"),
    (lambda r: r.__setitem__("dom_departures", r["departures"] + 1), "domestic"),
    (lambda r: r.drop(columns=["dom_departures"], inplace=True), "lacks the column"),
    (lambda r: r.loc.__setitem__((3, "iata"), "ATL"), "duplicate airport 'ATL'"),
    (lambda r: r.loc.__setitem__((5, "country"), "Atlantis"), "unknown OpenFlights country"),
    (lambda r: r.__setitem__("lat", r["lat"].astype(object).where(r.index != 2, "north")), "non-numeric"),
])
def test_malformed_inputs_raise(data_dir: Path, tmp_path: Path, edit, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        read_airport_departures(_cut(data_dir, tmp_path, edit))


def test_truncated_file_and_failed_write_leave_nothing(data_dir: Path, tmp_path: Path, dep: pd.DataFrame) -> None:
    raw = (data_dir / DEPARTURES_FILE).read_bytes()
    cut = tmp_path / "airport_departures_2016-08.csv.gz"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IngestError):
        read_airport_departures(cut)
    out = tmp_path / "out" / "airports.parquet"
    with pytest.raises(IngestError, match="duplicate"):
        AirportTrafficAdapter().write(pd.concat([dep, dep.head(1)]), out)
    assert not out.exists()
    assert AirportTrafficAdapter().write(dep, out, inputs=[data_dir / DEPARTURES_FILE]).exists()


def test_download_builds_the_same_table(publisher, dep: pd.DataFrame, tmp_cache: Path) -> None:
    base, routes, _ = publisher
    segs = bz2.compress((FIX / "optd_airline_segs_mthly_201608.csv").read_bytes())
    routes[("GET", "/optd/optd_airline_segs_mthly_201608.csv.bz2")] = lambda q, h, b: (200, "application/x-bzip2", segs)
    routes[("GET", "/openflights/airports.dat")] = lambda q, h, b: (
        200, "text/plain", (FIX / "airports.dat").read_bytes())
    a = AirportTrafficAdapter()
    a.segments_url = f"{base}/optd/optd_airline_segs_mthly_{{yyyymm}}.csv.bz2"
    a.airports_url = f"{base}/openflights/airports.dat"
    paths = a.download(date(2016, 8, 1), date(2016, 8, 31))
    assert [p.name for p in paths] == ["optd_airline_segs_mthly_201608.csv.bz2", "airports.dat"]
    got = a.read(paths)
    shipped = dep[dep["iata"].isin(got["iata"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, shipped, check_dtype=False)
    with pytest.raises(IngestError, match="only for 201608, 201708"):
        a.download(date(2019, 1, 1), date(2019, 12, 31))


def test_airports_file_must_be_openflights(tmp_path: Path) -> None:
    bad = tmp_path / "airports.dat"
    bad.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(IngestError, match=">= 8 columns"):
        build_airport_departures(FIX / "optd_airline_segs_mthly_201608.csv", bad)
