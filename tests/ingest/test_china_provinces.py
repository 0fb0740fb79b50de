"""China's provincial annual output (Wind export of NBS data): December YTD values, provinces coded, units."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonmap.settings import get_settings
from ingest.base import IngestError
from ingest.china_provinces import FILE, ChinaProvinceOutputAdapter, read_china_province_output

PATH = get_settings().data_dir / FILE


def test_provincial_output_adds_up_to_the_national_figures() -> None:
    d = read_china_province_output(PATH)
    y = d[d["period"] == "2023-01-01"].pivot_table(index="region", columns="variable", values="value")
    assert len(y) == 31 and set(y.index) >= {"CN-HE", "CN-SH", "CN-BJ", "CN-NM"}
    assert y["cement"].sum() == pytest.approx(2023, rel=0.01)  # national cement 2023: 2,023 Mt
    assert y["crude_steel"].sum() == pytest.approx(1019, rel=0.02)  # national crude steel 2023: 1,019 Mt
    assert y["crude_steel"].idxmax() == "CN-HE"  # Hebei makes the most steel
    assert str(d["period"].max().date()) == "2024-01-01"


def test_wrong_units_and_missing_columns_are_refused(tmp_path: Path) -> None:
    lines = PATH.read_text(encoding="utf-8-sig").splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(line.replace("10000 tons", "kg").replace(",ton,", ",kg,") for line in lines),
                   encoding="utf-8")
    with pytest.raises(IngestError, match="expected ton"):
        read_china_province_output(bad)
    empty = tmp_path / "none.csv"
    empty.write_text("\n".join(lines[:6]), encoding="utf-8")
    with pytest.raises(IngestError):
        read_china_province_output(empty)
    with pytest.raises(IngestError):
        ChinaProvinceOutputAdapter().write(read_china_province_output(empty), tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()
