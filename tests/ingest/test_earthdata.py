"""CMR granule search + Earthdata bearer download against a real local HTTP server imitating CMR and a DAAC."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from carbonmap.settings import get_settings
from ingest.base import IngestError
from ingest.earthdata import OMNO2D, parse_granule, search_granules, temporal
from ingest.omi import CLIMATOLOGY_FILE, OMIAdapter
from ingest.viirs import VIIRSAdapter

NAMES = [f"OMI-Aura_L3-OMNO2d_2020m01{d:02d}_v003-2020m01{d + 2:02d}t0{d}1107.he5" for d in (1, 2, 3)]


def _item(name: str, url: str, md5: str, size: int) -> dict:
    """One ``items[]`` entry in CMR's UMM-G JSON layout (as GES DISC publishes OMNO2d)."""
    return {"meta": {"concept-type": "granule", "concept-id": f"G-{name[:30]}", "provider-id": "GES_DISC",
                     "native-id": f"OMNO2d.003:{name}", "format": "application/vnd.nasa.cmr.umm+json"},
            "umm": {"GranuleUR": f"OMNO2d.003:{name}",
                    "TemporalExtent": {"RangeDateTime": {"BeginningDateTime": "2020-01-01T00:00:00.000Z"}},
                    "RelatedUrls": [
                        {"URL": f"s3://gesdisc-cumulus-prod-protected/OMNO2d.003/{name}",
                         "Type": "GET DATA VIA DIRECT ACCESS"},
                        {"URL": url, "Type": "GET DATA", "Description": "Download " + name},
                        {"URL": url.replace("/data/", "/opendap/HDF-EOS5/"), "Type": "USE SERVICE API",
                         "Subtype": "OPENDAP DATA"}],
                    "DataGranule": {"DayNightFlag": "Unspecified", "ArchiveAndDistributionInformation": [
                        {"Name": name, "SizeInBytes": size, "Format": "HDF-EOS5",
                         "Checksum": {"Value": md5, "Algorithm": "MD5"}}]}}}


@pytest.fixture()
def nasa(publisher, set_settings, data_dir: Path):
    base, routes, hits = publisher
    body = (data_dir / CLIMATOLOGY_FILE).read_bytes()  # an HDF5 file standing in for the granule's bytes
    state = {"md5": hashlib.md5(body).hexdigest(), "body": body}

    def cmr(q, h, b):
        size, page = int(q["page_size"]), int(q["page_num"])
        urls = [f"{base}/data/Aura_OMI_Level3/OMNO2d.003/2020/{n}" for n in NAMES]
        items = [_item(n, u, state["md5"], len(body)) for n, u in zip(NAMES, urls, strict=True)]
        page_items = items[(page - 1) * size: page * size]
        return 200, "application/vnd.nasa.cmr.umm_results+json", json.dumps(
            {"hits": len(items), "took": 5, "items": page_items}).encode()

    def granule(q, h, b):
        if h.get("Authorization") != "Bearer ed-tok":
            return 401, "text/plain", b"HTTP Basic: Access denied."
        return 200, "application/octet-stream", state["body"]

    routes[("GET", "/search/granules.umm_json")] = cmr
    for n in NAMES:
        routes[("GET", f"/data/Aura_OMI_Level3/OMNO2d.003/2020/{n}")] = granule
    set_settings(cmr_url=f"{base}/search", earthdata_token="ed-tok")
    return base, state, hits


def _data_hits(hits: list) -> int:
    return sum(1 for h in hits if h[1].startswith("/data/"))


def test_search_pages_and_parses(nasa) -> None:
    _, state, hits = nasa
    gs = search_granules(OMNO2D, date(2020, 1, 1), date(2020, 1, 3), page_size=2, settings=get_settings())
    assert [g.name for g in gs] == NAMES
    assert gs[0].checksum == ("md5", state["md5"]) and gs[0].size == len(state["body"])
    assert gs[0].url.startswith("http://127.0.0.1") and "/data/" in gs[0].url
    q = [h[2] for h in hits if h[1] == "/search/granules.umm_json"]
    assert [x["page_num"] for x in q] == ["1", "2"]
    assert q[0]["short_name"] == "OMNO2d" and q[0]["version"] == "003" and q[0]["provider"] == "GES_DISC"
    assert q[0]["temporal"] == temporal(date(2020, 1, 1), date(2020, 1, 3)) == \
        "2020-01-01T00:00:00Z,2020-01-03T23:59:59Z"


def test_omi_download_end_to_end_and_cache(nasa, tmp_cache: Path) -> None:
    _, state, hits = nasa
    paths = OMIAdapter().download(date(2020, 1, 1), date(2020, 1, 3))
    assert [p.name for p in paths] == NAMES
    assert all(p.is_relative_to(tmp_cache / "downloads" / "omi") and p.read_bytes() == state["body"] for p in paths)
    assert _data_hits(hits) == 3
    assert OMIAdapter().download(date(2020, 1, 1), date(2020, 1, 3)) == paths
    assert _data_hits(hits) == 3  # granules come from the cache


def test_viirs_passes_bounding_box(nasa, tmp_cache: Path) -> None:
    _, _, hits = nasa
    ad = VIIRSAdapter()
    ad.bounding_box = (20.0, 43.0, 30.0, 48.0)
    ad.download(date(2020, 1, 1), date(2020, 1, 1))
    q = next(h[2] for h in hits if h[1] == "/search/granules.umm_json")
    assert q["short_name"] == "VNP46A2" and q["provider"] == "LAADS" and q["bounding_box"] == "20,43,30,48"


def test_missing_token_names_the_setting(nasa, set_settings, tmp_cache: Path) -> None:
    _, _, hits = nasa
    set_settings(earthdata_token="")
    with pytest.raises(IngestError, match="set the setting 'earthdata_token'.*CARBONMAP_EARTHDATA_TOKEN"):
        OMIAdapter().download(date(2020, 1, 1), date(2020, 1, 3))
    assert not hits  # refused before any request


def test_wrong_token_and_offline(nasa, set_settings, dead_url: str, tmp_cache: Path) -> None:
    set_settings(earthdata_token="wrong")
    with pytest.raises(IngestError, match="HTTP 401"):
        OMIAdapter().download(date(2020, 1, 1), date(2020, 1, 1))
    set_settings(cmr_url=f"{dead_url}/search", earthdata_token="ed-tok")
    assert get_settings().cmr_url.startswith(dead_url)
    with pytest.raises(IngestError, match="are you offline"):
        search_granules(OMNO2D, date(2020, 1, 1), date(2020, 1, 1), retries=2, backoff_s=0.01, settings=get_settings())


def test_checksum_mismatch_leaves_nothing(nasa, tmp_cache: Path) -> None:
    _, state, _ = nasa
    state["md5"] = "0" * 32
    with pytest.raises(IngestError, match="md5 .* expected 0{32}"):
        OMIAdapter().download(date(2020, 1, 1), date(2020, 1, 1))
    assert not [p for p in (tmp_cache / "downloads" / "omi").glob("*") if p.is_file()]


def test_granule_without_https_link() -> None:
    item = _item(NAMES[0], "https://x/data/a.he5", "0" * 32, 1)
    item["umm"]["RelatedUrls"] = [u for u in item["umm"]["RelatedUrls"] if u["Type"] != "GET DATA"]
    with pytest.raises(IngestError, match="no HTTPS 'GET DATA' link"):
        parse_granule(item)
    with pytest.raises(IngestError, match="before its start"):
        temporal(date(2020, 1, 2), date(2020, 1, 1))
