from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonmap.contract import NATIONAL_SECTORS
from ingest.cait import read_cait
from ingest.edgar import read_edgar_v5
from ingest.gcb import read_gcb
from ingest.sector_map import (
    DOMESTIC_AVIATION_SHARE_OF_TRANSPORT,
    SECTOR_MAP,
    check_sector_map,
    mapping_for,
    render_markdown,
)
from ingest.sector_shares import national_sector_shares


@pytest.fixture(scope="module")
def inputs(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (read_edgar_v5(data_dir / "statistical/edgar-v5.0-ft2018-co2-by-sector.csv"),
            read_cait(data_dir / "statistical/cait-co2-by-sector-2021.csv"),
            read_gcb(data_dir / "statistical/GCB2025v15_MtCO2_flat.csv"))


def test_sector_map_is_consistent() -> None:
    check_sector_map()
    assert mapping_for("edgar_v5")["Transport"]["domestic_aviation"] == DOMESTIC_AVIATION_SHARE_OF_TRANSPORT
    md = render_markdown()
    assert sum(md.count(f"\n| {inv} |") for inv in ("edgar_v5", "cait", "edgar_2024")) == len(SECTOR_MAP)


def test_docs_table_is_current() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "sector_map.md"
    assert doc.read_text() == render_markdown() + "\n"


def test_shares_sum_to_one_and_cover_gcb(inputs) -> None:
    edgar, cait, gcb = inputs
    codes = sorted(set(gcb["iso3"]) - {"WLD", "XIA", "XIS"})
    s = national_sector_shares(edgar, cait, countries=codes)
    assert list(s.columns) == list(NATIONAL_SECTORS)
    assert np.allclose(s.sum(axis=1), 1.0, atol=1e-12)
    assert (s >= 0).all().all()
    assert set(codes) <= set(s.index)
    fb = s.attrs["fallback_iso3"]
    assert 0 < len(fb) < 15 and "USA" not in fb
    gm = pd.Series(s.attrs["global_mean"])
    for iso in fb:
        assert np.allclose(s.loc[iso].to_numpy(), gm[list(NATIONAL_SECTORS)].to_numpy())


def test_shares_follow_edgar_latest_year(inputs) -> None:
    edgar, cait, _ = inputs
    s = national_sector_shares(edgar, cait)
    e = edgar[(edgar.code == "DEU") & (edgar.year == 2018)].set_index("sector")["emissions"]
    assert s.loc["DEU", "power"] == pytest.approx(e["Power Industry"] / e.sum(), rel=1e-9)
    assert s.loc["DEU", "domestic_aviation"] == pytest.approx(0.05 * e["Transport"] / e.sum(), rel=1e-9)
    assert s.attrs["source"]["DEU"] == "edgar_v5" and s.attrs["year"]["DEU"] == 2018
    # grouped EDGAR codes reach their members
    assert s.loc["MCO"].equals(s.loc["FRA"]) and s.attrs["source"]["KSV"] == "edgar_v5"


def test_cait_fills_gaps(inputs) -> None:
    edgar, cait, _ = inputs
    without = national_sector_shares(edgar)
    with_cait = national_sector_shares(edgar, cait)
    added = sorted(set(with_cait.index) - set(without.index))
    assert added and all(with_cait.attrs["source"][i] == "cait" for i in added)


def test_missing_column_refused(inputs) -> None:
    from ingest.base import IngestError

    with pytest.raises(IngestError, match="EDGAR table lacks"):
        national_sector_shares(inputs[0].drop(columns=["sector"]))
