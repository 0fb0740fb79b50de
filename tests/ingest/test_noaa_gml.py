from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingest.base import IngestError
from ingest.canonical import read_parquet_provenance
from ingest.noaa_gml import (
    DAILY_FILE,
    MONTHLY_FILE,
    NOAAGMLDailyAdapter,
    NOAAGMLMonthlyAdapter,
    read_daily,
    read_monthly,
)


def _header(path: Path) -> str:
    return "".join(ln for ln in path.read_text().splitlines(keepends=True) if ln.startswith("#"))


def test_daily_real_file(data_dir: Path) -> None:
    d = read_daily(data_dir / DAILY_FILE)
    assert d["date"].iloc[0] == pd.Timestamp("1974-05-17") and d["date"].iloc[-1] == pd.Timestamp("2023-11-09")
    assert d["date"].is_monotonic_increasing and not d["date"].duplicated().any()
    # Keeling curve: ~333 ppm in 1974, ~419 in 2023; rises every decade
    assert d["co2_ppm"].iloc[0] == pytest.approx(333.38) and d["co2_ppm"].iloc[-1] == pytest.approx(419.11)
    yearly = d.groupby(d["date"].dt.year)["co2_ppm"].mean()
    assert (yearly.loc[[1980, 1990, 2000, 2010, 2020]].diff().dropna() > 10).all()
    assert d.attrs["units"] == "ppm"


def test_monthly_real_file_flags(data_dir: Path) -> None:
    m = read_monthly(data_dir / MONTHLY_FILE)
    assert m["month"].iloc[0] == pd.Timestamp("1958-03-01")
    # SIO months (1958-1974) carry -1/-9.99/-0.99 "no information" flags -> NaN + interpolated
    early = m[m["month"] < "1974-01-01"]
    assert early["interpolated"].all() and early["sdev_ppm"].isna().all() and early["ndays"].isna().all()
    assert m.loc[m["month"] == "2023-09-01", "co2_ppm"].item() == pytest.approx(418.51)
    assert not m["co2_ppm"].isna().any()


def test_missing_flag_and_write(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / DAILY_FILE
    lines = src.read_text().splitlines()
    body = [ln for ln in lines if not ln.startswith("#")][:50]
    body[10] = body[10].rsplit(",", 1)[0] + ",-999.99"
    p = tmp_path / "co2_daily_mlo.csv"
    p.write_text(_header(src) + "\n".join(body) + "\n")
    d = read_daily(p)
    assert bool(d["missing"].iloc[10]) and pd.isna(d["co2_ppm"].iloc[10]) and d["missing"].sum() == 1
    a = NOAAGMLDailyAdapter()
    out = a.write(a.read([p]), tmp_path / "noaa.parquet", inputs=[p])
    assert pd.read_parquet(out)["co2_ppm"].notna().sum() == 49
    assert read_parquet_provenance(out)["source_name"] == "noaa_gml_daily"


@pytest.mark.parametrize(("edit", "message"), [
    (lambda b: [b[0], b[0]] + b[2:], "duplicate date 1974-05-17"),
    (lambda b: [ln.rsplit(",", 1)[0] + "," + str(float(ln.rsplit(",", 1)[1]) * 1000) for ln in b],
     "CO2 must be in ppm"),
    (lambda b: [ln + ",1" for ln in b], "5 fields"),
    (lambda b: [b[1], b[0]] + b[2:], "not in increasing order"),
])
def test_daily_bad_input(data_dir: Path, tmp_path: Path, edit, message: str) -> None:
    src = data_dir / DAILY_FILE
    body = [ln for ln in src.read_text().splitlines() if not ln.startswith("#")][:20]
    p = tmp_path / "bad.csv"
    p.write_text(_header(src) + "\n".join(edit(body)) + "\n")
    with pytest.raises(IngestError, match=message):
        read_daily(p)


def test_header_and_columns_required(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / MONTHLY_FILE
    no_header = tmp_path / "plain.csv"
    no_header.write_text("\n".join(ln for ln in src.read_text().splitlines() if not ln.startswith("#")))
    with pytest.raises(IngestError, match="lacks the NOAA GML '#' comment header"):
        read_monthly(no_header)
    text = src.read_text().replace("deseasonalized,", "trend,")
    bad = tmp_path / "co2_mm_mlo.csv"
    bad.write_text(text)
    with pytest.raises(IngestError, match=r"lacks the column\(s\) \['deseasonalized'\]"):
        NOAAGMLMonthlyAdapter().read([bad])
    out = tmp_path / "x.parquet"
    with pytest.raises(IngestError):
        a = NOAAGMLMonthlyAdapter()
        a.write(a.read([bad]), out, inputs=[bad])
    assert not out.exists()
