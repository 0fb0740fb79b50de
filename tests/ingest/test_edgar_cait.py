from __future__ import annotations

from pathlib import Path

import pytest

from ingest.base import IngestError
from ingest.cait import read_cait
from ingest.edgar import read_edgar_v5

EDGAR = "statistical/edgar-v5.0-ft2018-co2-by-sector.csv"
CAIT = "statistical/cait-co2-by-sector-2021.csv"


def test_edgar_reads_real_file(data_dir: Path) -> None:
    e = read_edgar_v5(data_dir / EDGAR)
    assert set(e["sector"]) == {"Power Industry", "Other industrial combustion", "Buildings", "Transport",
                                "Other sectors"}
    assert e["year"].max() == 2018
    usa = e[(e.code == "USA") & (e.year == 2018)]["emissions"].sum()
    assert 4500 < usa < 6000  # Mt CO2


def test_edgar_bad_input(tmp_path: Path) -> None:
    p = tmp_path / "e.csv"
    p.write_text("Code,Name,Year,Emissions\nAAA,A,2000,1\n")
    with pytest.raises(IngestError, match=r"lacks the EDGAR column\(s\) \['Sector'\]"):
        read_edgar_v5(p)
    p.write_text("Code,Name,Sector,Year,Emissions\nAAA,A,Transport,2000,1\nAAA,A,Transport,2000,2\n")
    with pytest.raises(IngestError, match="duplicate rows"):
        read_edgar_v5(p)
    p.write_text("Code,Name,Sector,Year,Emissions\nAAA,A,Shipping,2000,1\n")
    with pytest.raises(IngestError, match="unknown EDGAR v5 sector"):
        read_edgar_v5(p)


def test_cait_reads_real_file(data_dir: Path) -> None:
    c = read_cait(data_dir / CAIT)
    assert "World" not in set(c["country"])
    assert c["iso3"].str.fullmatch(r"[A-Z]{3}").all()
    us = c[(c.iso3 == "USA") & (c.year == 2018) & (c.sector == "Electricity and heat")]["emissions"]
    assert len(us) == 1 and 1500 < float(us.iloc[0]) < 2500


def test_cait_bad_input(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    cols = "Country,Year,Electricity and heat,Manufacturing and construction,Industry,Fugitive emissions," \
           "Other fuel combustion,Buildings,Transport\n"
    p.write_text(cols + "Atlantis,2000,1,1,1,1,1,1,1\n")
    with pytest.raises(IngestError, match="unknown country name 'Atlantis'"):
        read_cait(p)
    p.write_text(cols + "France,2000,1,1,1,1,1,1,1\nFrance,2000,1,1,1,1,1,1,1\n")
    with pytest.raises(IngestError, match=r"duplicate rows for \(France, 2000\)"):
        read_cait(p)
    p.write_text("Country,Year,Transport\nFrance,2000,1\n")
    with pytest.raises(IngestError, match="lacks the CAIT column"):
        read_cait(p)
