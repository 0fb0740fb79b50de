"""ENTSO-E RESTful API flow (A75 XML) against a real local HTTP server imitating web-api.tp.entsoe.eu."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from carbonmap.settings import get_settings
from ingest.base import IngestError
from ingest.entsoe import EMISSION_FACTORS_KG_PER_MWH, ENTSOEAdapter
from ingest.entsoe_api import download_entsoe, read_agpt_xml

NS = "urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0"


def _series(psr: str, start: str, end: str, res: str, quantities: list[float], out: bool = False) -> str:
    dom = ("<outBiddingZone_Domain.mRID codingScheme=\"A01\">10Y1001A1001A83F</outBiddingZone_Domain.mRID>" if out
           else "<inBiddingZone_Domain.mRID codingScheme=\"A01\">10Y1001A1001A83F</inBiddingZone_Domain.mRID>")
    pts = "".join(f"<Point><position>{i + 1}</position><quantity>{q:g}</quantity></Point>"
                  for i, q in enumerate(quantities))
    return (f"<TimeSeries><mRID>1</mRID><businessType>A01</businessType><objectAggregation>A08</objectAggregation>"
            f"{dom}<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name><curveType>A01</curveType>"
            f"<MktPSRType><psrType>{psr}</psrType></MktPSRType><Period><timeInterval><start>{start}</start>"
            f"<end>{end}</end></timeInterval><resolution>{res}</resolution>{pts}</Period></TimeSeries>")


def gl_document(series: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><GL_MarketDocument xmlns="{NS}"><mRID>abc</mRID>'
            f"<revisionNumber>1</revisionNumber><type>A75</type><process.processType>A16</process.processType>"
            f"<sender_MarketParticipant.mRID codingScheme=\"A01\">10X1001A1001A450</sender_MarketParticipant.mRID>"
            f"<createdDateTime>2023-02-01T10:00:00Z</createdDateTime><time_Period.timeInterval>"
            f"<start>2023-01-01T00:00Z</start><end>2023-01-03T00:00Z</end></time_Period.timeInterval>"
            f"{series}</GL_MarketDocument>").encode()


NO_DATA = (b'<?xml version="1.0" encoding="UTF-8"?><Acknowledgement_MarketDocument '
           b'xmlns="urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0"><mRID>x</mRID>'
           b"<Reason><code>999</code><text>No matching data found for Data item ACTUAL_GENERATION_PER_PRODUCTION_TYPE "
           b"[17.1.B] (10YFR-RTE------C) and interval [2023-01-01T00:00:00.000Z/2023-01-03T00:00:00.000Z].</text>"
           b"</Reason></Acknowledgement_MarketDocument>")

# DE, 2 days: lignite 1000 MW for 48 h (PT60M), gas 400 MW for day 1 in PT15M, pumping consumption ignored
DOC = gl_document(
    _series("B02", "2023-01-01T00:00Z", "2023-01-03T00:00Z", "PT60M", [1000.0] * 48)
    + _series("B04", "2023-01-01T00:00Z", "2023-01-02T00:00Z", "PT15M", [400.0] * 96)
    + _series("B10", "2023-01-01T00:00Z", "2023-01-03T00:00Z", "PT60M", [50.0] * 48, out=True)
    + _series("B16", "2023-01-01T00:00Z", "2023-01-03T00:00Z", "PT60M", [10.0] * 48))


@pytest.fixture()
def api(publisher, set_settings):
    base, routes, hits = publisher

    def handler(q, h, b):
        if q.get("securityToken") != "tok-1":
            return 401, "text/html", b"<html><body>Unauthorized</body></html>"
        assert q["documentType"] == "A75" and q["processType"] == "A16"
        if q["in_Domain"] == "10Y1001A1001A83F":
            return 200, "text/xml", DOC
        return 200, "text/xml", NO_DATA

    routes[("GET", "/api")] = handler
    set_settings(entsoe_url=f"{base}/api", entsoe_token="tok-1")
    return base, hits


AREAS = {"DE": "10Y1001A1001A83F", "FR": "10YFR-RTE------C"}


def test_download_cache_and_read(api, tmp_cache: Path) -> None:
    _, hits = api
    paths = download_entsoe(date(2023, 1, 1), date(2023, 1, 2), AREAS, settings=get_settings())
    assert [p.name for p in paths] == ["entsoe_A75_DE_20230101-20230103.xml"]  # FR: no data, skipped
    assert paths[0].is_relative_to(tmp_cache) and paths[0].with_name(paths[0].name + ".sha256").exists()
    q = hits[0][2]
    assert q["periodStart"] == "202301010000" and q["periodEnd"] == "202301030000"
    n = len(hits)
    download_entsoe(date(2023, 1, 1), date(2023, 1, 2), {"DE": AREAS["DE"]}, settings=get_settings())
    assert len(hits) == n  # cached
    daily = read_agpt_xml(paths[0])
    lig = daily[daily.production_type == "Fossil Brown coal/Lignite"]
    assert lig["mwh"].tolist() == [24000.0, 24000.0] and lig["hours"].tolist() == [24.0, 24.0]
    assert "Hydro Pumped Storage" not in set(daily.production_type)
    fossil = ENTSOEAdapter().read(paths)
    d1 = fossil.iloc[0]
    assert d1["fossil_mwh"] == pytest.approx(24000 + 9600)
    assert d1["co2_kg"] == pytest.approx(24000 * EMISSION_FACTORS_KG_PER_MWH["Fossil Brown coal/Lignite"]
                                         + 9600 * EMISSION_FACTORS_KG_PER_MWH["Fossil Gas"])


def test_missing_token_names_the_setting(set_settings, tmp_cache: Path) -> None:
    set_settings(entsoe_token="")
    with pytest.raises(IngestError, match="set the setting 'entsoe_token'.*CARBONMAP_ENTSOE_TOKEN"):
        ENTSOEAdapter().download(date(2023, 1, 1), date(2023, 1, 2))


def test_refused_token_is_not_echoed_and_offline(api, set_settings, dead_url: str, tmp_cache: Path) -> None:
    set_settings(entsoe_token="secret-999")
    with pytest.raises(IngestError, match="HTTP 401") as e:
        download_entsoe(date(2023, 1, 1), date(2023, 1, 2), AREAS, retries=1, settings=get_settings())
    assert "secret-999" not in str(e.value) and "securityToken=***" in str(e.value)
    set_settings(entsoe_url=f"{dead_url}/api", entsoe_token="tok-1")
    with pytest.raises(IngestError, match="after 2 attempts.*are you offline") as e:
        download_entsoe(date(2023, 1, 1), date(2023, 1, 2), AREAS, retries=2, backoff_s=0.01, settings=get_settings())
    assert "tok-1" not in str(e.value)


def test_no_data_anywhere_and_bad_xml(api, tmp_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no actual generation data.*FR 2023-01"):
        download_entsoe(date(2023, 1, 1), date(2023, 1, 2), {"FR": AREAS["FR"]}, settings=get_settings())
    bad = tmp_path / "entsoe_A75_DE_x.xml"
    bad.write_bytes(DOC.replace(b"<psrType>B16</psrType>", b"<psrType>Z99</psrType>"))
    with pytest.raises(IngestError, match="unknown psrType 'Z99'"):
        read_agpt_xml(bad)
    bad.write_bytes(DOC[:300])
    with pytest.raises(IngestError, match="not well-formed XML"):
        read_agpt_xml(bad)
