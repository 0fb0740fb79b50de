"""Singapore (monthly) and Rotterdam (quarterly) bunker sales: shipped files, bad inputs, download."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.activity import COLUMNS, PUBLICATION_LAG_DAYS, published_by
from ingest.base import IngestError
from ingest.bunkers import (
    DIR,
    RTM_FILE,
    SGP_FILE,
    RotterdamBunkersAdapter,
    SingaporeBunkersAdapter,
    read_rotterdam_bunkers,
    read_singapore_bunkers,
)


@pytest.fixture(scope="module")
def sgp_path(data_dir: Path) -> Path:
    return data_dir / DIR / SGP_FILE


@pytest.fixture(scope="module")
def rtm_path(data_dir: Path) -> Path:
    return data_dir / DIR / RTM_FILE


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_singapore_shipped_file(sgp_path: Path) -> None:
    df = read_singapore_bunkers(sgp_path)
    assert tuple(df.columns) == COLUMNS
    assert len(df) == 379 and (df["iso3"] == "SGP").all() and (df["unit"] == "kt").all()
    assert (df["frequency"] == "monthly").all() and set(df["variable"]) == {"bunker_fuel"}
    assert df["period"].min() == pd.Timestamp("1995-01-01") and df["period"].max() == pd.Timestamp("2026-07-01")
    v = df.set_index("period")["value"]
    assert v[pd.Timestamp("1995-01-01")] == pytest.approx(1565.3)
    assert v[pd.Timestamp("2026-07-01")] == pytest.approx(4731.91)
    assert v[v.index.year == 2025].sum() == pytest.approx(56_774.8)  # ~57 Mt of fuel in 2025


def test_rotterdam_shipped_file(rtm_path: Path) -> None:
    df = read_rotterdam_bunkers(rtm_path)
    assert tuple(df.columns) == COLUMNS
    assert (df["iso3"] == "NLD").all() and (df["region"] == "Rotterdam").all() and (df["unit"] == "kt").all()
    q = df[df["variable"] == "bunker_fuel_quarter"].set_index("period")["value"]
    assert len(q) == 65 and q.index.month.isin([1, 4, 7, 10]).all()
    assert (df.loc[df['variable'] == 'bunker_fuel_quarter', 'frequency'] == 'monthly').all()
    assert q.index.min() == pd.Timestamp("2010-01-01") and q.index.max() == pd.Timestamp("2026-01-01")
    assert q[pd.Timestamp("2010-01-01")] == pytest.approx(2920.88)  # 201003 in the file: dated at January
    assert q[pd.Timestamp("2026-01-01")] == pytest.approx(1814.32)
    y = df[df["variable"] == "bunker_fuel"]
    assert (y["frequency"] == "yearly").all() and len(y) == 16  # 2010-2025; 2026 has one quarter only
    yv = y.set_index("period")["value"]
    assert yv[pd.Timestamp("2024-01-01")] == pytest.approx(9819.578)
    assert yv[pd.Timestamp("2010-01-01")] == pytest.approx(q[q.index.year == 2010].sum())


def test_lags(sgp_path: Path, rtm_path: Path) -> None:
    assert PUBLICATION_LAG_DAYS["bunkers_singapore"] == 45
    assert PUBLICATION_LAG_DAYS["bunkers_rotterdam"] == 121
    sgp = read_singapore_bunkers(sgp_path)
    assert published_by(sgp, "2026-07-15")["period"].max() == pd.Timestamp("2026-05-01")
    rtm = read_rotterdam_bunkers(rtm_path)
    q = rtm[rtm["variable"] == "bunker_fuel_quarter"]
    # 2025Q4 (dated 2025-10-01) ends 2025-12-31 and is out 60 days later (2026-03-01); never before
    assert published_by(q, "2026-03-01")["period"].max() == pd.Timestamp("2025-10-01")
    assert published_by(q, "2026-02-28")["period"].max() == pd.Timestamp("2025-07-01")


@pytest.mark.parametrize("edit, match", [
    (lambda ls: [ls[0]] + [_scale(ln, 1000) for ln in ls[1:]], r"outside 100..10000 kt: wrong units"),
    (lambda ls: [ls[0]] + [_scale(ln, 0.001) for ln in ls[1:]], r"wrong units"),
    (lambda ls: ls + [ls[-1]], r"duplicate month 1995-03"),
    (lambda ls: ls[:-1] + [ls[-1].split(",")[0] + ","], r"has no 'Total'.*truncated"),
    (lambda ls: [ls[0]] + [ln.replace(",67.9", ",167.9") for ln in ls[1:]], r"1995-01: the fuels add up"),
    (lambda ls: [ls[0].replace('"Total"', '"Sum"')] + ls[1:], r"expected the Singapore bunkers columns"),
    (lambda ls: [ls[0], "1995-1,1565.3,67.9,135.4,0,1362,0,0"], r"'1995-1' in row 2 is not a month"),
])
def test_singapore_malformed(sgp_path: Path, tmp_path: Path, edit, match: str) -> None:
    src = _write(tmp_path, SGP_FILE, edit(_lines(sgp_path)[:4]))
    a, out = SingaporeBunkersAdapter(), tmp_path / "sgp.parquet"
    with pytest.raises(IngestError, match=match):
        a.write(a.read([src]), out, inputs=[src])
    assert not out.exists()


def _scale(line: str, k: float) -> str:
    parts = line.split(",")
    return ",".join([parts[0], *[str(float(v) * k) if v else v for v in parts[1:]]])


@pytest.mark.parametrize("edit, match", [
    (lambda ls: [ls[0]] + [_scale(ln, 1000) for ln in ls[1:]], r"outside 100..30000 kt"),
    (lambda ls: [ls[0]] + [ln.replace("201006,", "201005,") for ln in ls[1:]], r"201005 .* not a quarter's last"),
    (lambda ls: [ls[0]] + [ln.replace(",2802.604", ",2902.604") for ln in ls[1:]], r"2010-03: the fuels add up"),
    (lambda ls: ls + [ls[1]], r"duplicate month 2010-03"),
    (lambda ls: [ls[0].replace('"LNG",', "")] + ls[1:], r"expected the Rotterdam bunkers columns"),
])
def test_rotterdam_malformed(rtm_path: Path, tmp_path: Path, edit, match: str) -> None:
    src = _write(tmp_path, RTM_FILE, edit(_lines(rtm_path)[:5]))
    a, out = RotterdamBunkersAdapter(), tmp_path / "rtm.parquet"
    with pytest.raises(IngestError, match=match):
        a.write(a.read([src]), out, inputs=[src])
    assert not out.exists()


def test_a_cut_of_real_lines_reads(sgp_path: Path, rtm_path: Path, tmp_path: Path) -> None:
    assert len(read_singapore_bunkers(_write(tmp_path, SGP_FILE, _lines(sgp_path)[:4]))) == 3
    r = read_rotterdam_bunkers(_write(tmp_path, RTM_FILE, _lines(rtm_path)[:5]))
    assert len(r) == 5  # 4 quarters of 2010 and the year 2010


def test_adapter_takes_one_file_and_validate_catches_duplicates(sgp_path: Path, tmp_path: Path) -> None:
    a = SingaporeBunkersAdapter()
    with pytest.raises(IngestError, match="exactly one file"):
        a.read([sgp_path, sgp_path])
    df = a.read([sgp_path])
    out = tmp_path / "dup.parquet"
    with pytest.raises(IngestError, match="duplicate bunker_fuel for SGP"):
        a.write(pd.concat([df, df.tail(1)], ignore_index=True), out)
    assert not out.exists()
    written = a.write(df, tmp_path / "sgp.parquet", inputs=[sgp_path])
    assert len(pd.read_parquet(written)) == len(df)


def test_download_against_local_publisher(publisher, sgp_path: Path, rtm_path: Path, tmp_cache: Path,
                                          dead_url: str) -> None:
    with pytest.raises(IngestError, match="are you offline"):  # before anything is cached
        SingaporeBunkersAdapter(base_url=dead_url).download(date(2025, 1, 1), date(2025, 1, 2))
    base, routes, hits = publisher
    prefix = "/robbieandrew/robbieandrew.github.io/0cf3c5b6/internationaltransport/data"
    routes[("GET", f"{prefix}/{SGP_FILE}")] = lambda q, h, b: (200, "text/csv", sgp_path.read_bytes())
    routes[("GET", f"{prefix}/{RTM_FILE}")] = lambda q, h, b: (200, "text/csv", rtm_path.read_bytes())
    s = SingaporeBunkersAdapter(base_url=base + prefix)
    r = RotterdamBunkersAdapter(base_url=base + prefix)
    sp = s.download(date(2025, 1, 1), date(2025, 12, 31))
    rp = r.download(date(2025, 1, 1), date(2025, 12, 31))
    assert sp[0].is_relative_to(tmp_cache / "downloads" / "bunkers_singapore")
    assert rp[0].is_relative_to(tmp_cache / "downloads" / "bunkers_rotterdam")
    assert len(s.read(sp)) == 379 and len(r.read(rp)) == 81
    assert s.download(date(2025, 1, 1), date(2025, 12, 31)) == sp and len(hits) == 2  # from the cache
