"""EUROCONTROL daily flights per state (euctrl-pru/daio): the shipped files, bad inputs, download."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.activity import COLUMNS, PUBLICATION_LAG_DAYS, published_by
from ingest.base import IngestError
from ingest.eurocontrol import DIR, GROUPS, STATES, YEARS_SHIPPED, EurocontrolAdapter, read_eurocontrol_daily


@pytest.fixture(scope="module")
def files(data_dir: Path) -> list[Path]:
    return [data_dir / DIR / f"daio_{y}.csv.gz" for y in YEARS_SHIPPED]


@pytest.fixture(scope="module")
def table(files: list[Path]) -> pd.DataFrame:
    return read_eurocontrol_daily(files)


@pytest.fixture(scope="module")
def lines_2019(files: list[Path]) -> list[str]:
    """The real 2019 file's header and the rows of its first 3 days for all 40 states."""
    text = gzip.decompress(files[0].read_bytes()).decode("utf-8").splitlines()
    return [text[0], *[ln for ln in text[1:] if ln[:10] in ("2019-01-01", "2019-01-02", "2019-01-03")]]


def _write(tmp_path: Path, lines: list[str], name: str = "daio_2019.csv") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_shipped_files_span_and_states(table: pd.DataFrame) -> None:
    assert tuple(table.columns) == COLUMNS
    assert table["period"].min() == pd.Timestamp("2019-01-01")
    assert table["period"].max() == pd.Timestamp("2026-07-23")
    assert table["iso3"].nunique() == 40 and set(GROUPS) <= set(table["iso3"])
    assert set(table["variable"]) == {"flights", "flights_departures", "flights_arrivals", "flights_internal"}
    assert (table["frequency"] == "daily").all() and (table["unit"] == "flights").all()
    assert (table["region"] == "").all() and (table["source"] == "eurocontrol").all()
    days = (pd.Timestamp("2026-07-23") - pd.Timestamp("2019-01-01")).days + 1
    assert len(table) == days * 40 * 4


def test_facts_of_the_files(table: pd.DataFrame) -> None:
    t = table.set_index(["iso3", "period", "variable"])["value"]
    # first rows of daio_2019 (Albania) and of the last file (United Kingdom, 2026-07-23)
    assert t[("ALB", pd.Timestamp("2019-01-01"), "flights")] == 353
    assert t[("ALB", pd.Timestamp("2019-01-01"), "flights_departures")] == 29
    assert t[("GBR", pd.Timestamp("2026-07-23"), "flights")] == 8752
    assert t[("GBR", pd.Timestamp("2026-07-23"), "flights_internal")] == 897
    deu = table[(table.iso3 == "DEU") & (table.variable == "flights_departures")]
    assert deu[deu.period.dt.year == 2019]["value"].sum() == 859_655
    assert deu[deu.period.dt.year == 2020]["value"].sum() == 362_605  # the 2020 collapse
    # France is the busiest airspace on 2019-07-01
    day = table[(table.period == "2019-07-01") & (table.variable == "flights")]
    assert day.loc[day["value"].idxmax(), "iso3"] == "FRA"


def test_lag_and_published_by(table: pd.DataFrame) -> None:
    assert PUBLICATION_LAG_DAYS["eurocontrol"] == 2
    seen = published_by(table, "2026-07-20")
    assert seen["period"].max() == pd.Timestamp("2026-07-18")


def test_identities_hold_and_are_checked(lines_2019: list[str], tmp_path: Path) -> None:
    df = read_eurocontrol_daily([_write(tmp_path, lines_2019)])
    assert len(df) == 40 * 3 * 4
    # swapping departures and internal flights breaks flt_dai = d + a + i only where they differ
    head, rows = lines_2019[0], [ln.split(",") for ln in lines_2019[1:]]
    cols = head.split(",")
    d, o = cols.index("flt_d"), cols.index("flt_o")
    bad = [r.copy() for r in rows]
    bad[5][d], bad[5][o] = bad[5][o], bad[5][d]
    with pytest.raises(IngestError, match=r"row 7 .* breaks flt_daio = flt_o \+ flt_dai"):
        read_eurocontrol_daily([_write(tmp_path, [head, *[",".join(r) for r in bad]])])


@pytest.mark.parametrize("edit, match", [
    (lambda ls: ls[:-1] + [ls[-1][:25]], r"must be a count of flights; row 121"),           # cut mid-row
    (lambda ls: ls[:60] + ls[61:], r"covers .* truncated file"),                             # a state loses a day
    (lambda ls: [ls[0]] + [ln for ln in ls[1:] if ",LZ," not in ln], r"\['LZ'\] are missing"),
    (lambda ls: ls + [ls[1]], r"duplicate row for Albania on 2019-01-01"),
    (lambda ls: [ls[0]] + [ln.replace(",LA,Albania,", ",XX,Atlantis,") for ln in ls[1:]], r"unknown .* \['XX'\]"),
    (lambda ls: [ls[0]] + [ln.replace(",LA,Albania,", ",LA,Albanie,") for ln in ls[1:]], r"named 'Albanie'"),
    (lambda ls: [ls[0].replace("flt_da,", "flt_ad,")] + ls[1:], r"expected the daio columns"),
    (lambda ls: [ls[0]] + [ln.replace("2019-01-0", "2018-01-0") for ln in ls[1:]], r"2018-01-01 .* is not in 2019"),
])
def test_malformed_files_raise_and_write_nothing(lines_2019: list[str], tmp_path: Path, edit, match: str) -> None:
    src = _write(tmp_path, edit(list(lines_2019)))
    out = tmp_path / "flights.parquet"
    a = EurocontrolAdapter()
    with pytest.raises(IngestError, match=match):
        a.write(a.read([src]), out, inputs=[src])
    assert not out.exists()


def test_wrong_units_are_caught(lines_2019: list[str], tmp_path: Path) -> None:
    head, *rows = lines_2019
    scaled = [",".join(r.split(",")[:3] + [str(int(v) * 1000) for v in r.split(",")[3:]]) for r in rows]
    with pytest.raises(IngestError, match=r"over 50000: not a daily count of flights"):
        read_eurocontrol_daily([_write(tmp_path, [head, *scaled])])


def test_names_gzip_and_repeats(lines_2019: list[str], tmp_path: Path) -> None:
    good = _write(tmp_path, lines_2019)
    gz = tmp_path / "daio_2019.csv.gz"
    gz.write_bytes(gzip.compress(good.read_bytes()))
    pd.testing.assert_frame_equal(read_eurocontrol_daily([gz]), read_eurocontrol_daily([good]))
    cut = tmp_path / "cut" / "daio_2019.csv.gz"
    cut.parent.mkdir()
    cut.write_bytes(gz.read_bytes()[:-40])
    with pytest.raises(IngestError, match="not a readable"):
        read_eurocontrol_daily([cut])
    with pytest.raises(IngestError, match="year 2019 was given twice"):
        read_eurocontrol_daily([good, gz])
    with pytest.raises(IngestError, match="not a EUROCONTROL daio file name"):
        read_eurocontrol_daily([_write(tmp_path, lines_2019, "flights.csv")])
    with pytest.raises(IngestError, match="no EUROCONTROL"):
        read_eurocontrol_daily([])


def test_validate_rejects_duplicates(table: pd.DataFrame, tmp_path: Path) -> None:
    bad = pd.concat([table.head(3), table.head(1)], ignore_index=True)
    out = tmp_path / "dup.parquet"
    with pytest.raises(IngestError, match="duplicate flights"):
        EurocontrolAdapter().write(bad, out)
    assert not out.exists()


def test_state_table() -> None:
    assert len(STATES) == 40
    assert len({iso for _, iso in STATES.values()}) == 40
    members = [m for g in GROUPS.values() for m in g]
    assert not set(members) & {iso for _, iso in STATES.values()}


def test_download_against_local_publisher(publisher, lines_2019: list[str], tmp_cache: Path,
                                          dead_url: str) -> None:
    base, routes, hits = publisher
    body19 = ("\n".join(lines_2019) + "\n").encode()
    body20 = ("\n".join([lines_2019[0], *[ln.replace("2019-", "2020-") for ln in lines_2019[1:]]]) + "\n").encode()
    routes[("GET", "/euctrl-pru/daio/012a2681/daio_2019.csv")] = lambda q, h, b: (200, "text/csv", body19)
    routes[("GET", "/euctrl-pru/daio/012a2681/daio_2020.csv")] = lambda q, h, b: (200, "text/csv", body20)
    a = EurocontrolAdapter(base_url=f"{base}/euctrl-pru/daio/012a2681")
    paths = a.download(date(2019, 6, 1), date(2020, 1, 31))
    assert [p.name for p in paths] == ["daio_2019.csv", "daio_2020.csv"]
    assert all(p.is_relative_to(tmp_cache / "downloads" / "eurocontrol") for p in paths)
    df = a.read(paths)
    assert df["period"].dt.year.unique().tolist() == [2019, 2020] and len(df) == 2 * 40 * 3 * 4
    assert a.download(date(2019, 6, 1), date(2020, 1, 31)) == paths and len(hits) == 2  # cached
    with pytest.raises(IngestError, match="HTTP 404"):
        a.download(date(2021, 1, 1), date(2021, 1, 2))
    with pytest.raises(IngestError, match="starts on 2019-01-01"):
        a.download(date(2017, 1, 1), date(2018, 12, 31))
    with pytest.raises(IngestError, match="are you offline"):
        EurocontrolAdapter(base_url=dead_url).download(date(2022, 1, 1), date(2022, 1, 1))
