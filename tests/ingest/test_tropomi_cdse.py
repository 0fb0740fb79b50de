"""TROPOMI download flow against a real local HTTP server imitating the CDSE OData catalogue and download."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from carbonmap.settings import get_settings
from ingest.base import IngestError
from ingest.tropomi import TropomiAdapter
from ingest.tropomi_cdse import download_tropomi, product_filter, search_products
from tests.ingest.fixture_gen.tropomi import make_fixture

NAMES = ("S5P_OFFL_L2__NO2____20200303T013547_20200303T031717_12367_01_010302_20200304T202429.nc",
         "S5P_OFFL_L2__NO2____20200303T031717_20200303T045847_12368_01_010302_20200304T220612.nc")
IDS = ("0f9e3b36-5c5a-4bb4-9d2a-0d4b7c4b1a01", "7c1d2e44-91f0-4e6e-b1f3-3a8c2d9e0b02")


def _product(i: int, body: bytes, md5: str | None = None) -> dict:
    return {
        "@odata.mediaContentType": "application/octet-stream", "Id": IDS[i], "Name": NAMES[i],
        "ContentType": "application/octet-stream", "ContentLength": len(body),
        "OriginDate": "2020-03-04T21:30:00.000000Z", "PublicationDate": "2023-11-10T10:00:00.000000Z",
        "Online": True, "S3Path": f"/eodata/Sentinel-5P/TROPOMI/L2__NO2___/2020/03/03/{NAMES[i][:-3]}",
        "Checksum": [{"Value": md5 or hashlib.md5(body).hexdigest(), "Algorithm": "MD5",
                      "ChecksumDate": "2023-11-10T10:00:00.000000Z"},
                     {"Value": "ab" * 32, "Algorithm": "BLAKE3", "ChecksumDate": "2023-11-10T10:00:00.000000Z"}],
        "ContentDate": {"Start": "2020-03-03T01:35:47.000000Z", "End": "2020-03-03T03:17:17.000000Z"},
    }


@pytest.fixture()
def cdse(publisher, set_settings, tmp_path: Path):
    base, routes, hits = publisher
    bodies = [make_fixture(tmp_path / n, n_scanline=40, n_ground_pixel=20, seed=i).read_bytes()
              for i, n in enumerate(NAMES)]
    state = {"md5": [None, None]}

    def catalogue(q, h, b):
        if q.get("$skip") == "1":  # second page
            return 200, "application/json", json.dumps({
                "@odata.context": "$metadata#Products", "value": [_product(1, bodies[1], state["md5"][1])]}).encode()
        assert "L2__NO2___" in q["$filter"] and q["$top"] == "100"
        return 200, "application/json", json.dumps({
            "@odata.context": "$metadata#Products", "value": [_product(0, bodies[0], state["md5"][0])],
            "@odata.nextLink": f"{base}/odata/v1/Products?$filter=x&$top=1&$skip=1"}).encode()

    def value(i: int):
        def fn(q, h, b):
            if h.get("Authorization") != "Bearer tok-abc":
                return 401, "application/json", b'{"detail": "Expired signature!"}'
            return 200, "application/octet-stream", bodies[i]
        return fn

    routes[("GET", "/odata/v1/Products")] = catalogue
    for i in range(2):
        routes[("GET", f"/download/odata/v1/Products({IDS[i]})/$value")] = value(i)
    set_settings(cdse_catalogue_url=f"{base}/odata/v1", cdse_download_url=f"{base}/download/odata/v1",
                 cdse_token="tok-abc")
    return base, state, hits


def test_filter_text() -> None:
    f = product_filter(date(2020, 3, 3), date(2020, 3, 3))
    assert "Collection/Name eq 'SENTINEL-5P'" in f and "ContentDate/Start lt 2020-03-04T00:00:00.000Z" in f


def test_search_pages_download_and_read(cdse, tmp_cache: Path) -> None:
    _, _, hits = cdse
    assert [p["Name"] for p in search_products(date(2020, 3, 3), date(2020, 3, 3), settings=get_settings())] == list(NAMES)
    paths = download_tropomi(date(2020, 3, 3), date(2020, 3, 3), settings=get_settings())
    assert [p.name for p in paths] == list(NAMES) and all(p.is_relative_to(tmp_cache) for p in paths)
    assert all(h[3].get("Authorization") is None for h in hits if h[1] == "/odata/v1/Products")
    ds = TropomiAdapter().read(paths)
    assert ds.attrs["synthetic"] == "true" and ds.sizes["day"] == 1
    n = len([h for h in hits if "$value" in h[1]])
    download_tropomi(date(2020, 3, 3), date(2020, 3, 3), settings=get_settings())
    assert len([h for h in hits if "$value" in h[1]]) == n  # orbits come from the cache


def test_missing_token_names_the_setting(set_settings, tmp_cache: Path) -> None:
    set_settings(cdse_token="")
    with pytest.raises(IngestError, match="set the setting 'cdse_token'.*CARBONMAP_CDSE_TOKEN"):
        TropomiAdapter().download(date(2020, 3, 3), date(2020, 3, 3))


def test_offline_and_refused_token(cdse, set_settings, dead_url: str, tmp_cache: Path) -> None:
    set_settings(cdse_token="expired-xyz")
    with pytest.raises(IngestError, match="HTTP 401"):
        download_tropomi(date(2020, 3, 3), date(2020, 3, 3), retries=1, settings=get_settings())
    set_settings(cdse_catalogue_url=f"{dead_url}/odata/v1", cdse_token="tok-abc")
    with pytest.raises(IngestError, match="after 2 attempts.*are you offline"):
        download_tropomi(date(2020, 3, 3), date(2020, 3, 3), retries=2, backoff_s=0.01, settings=get_settings())


def test_md5_mismatch_leaves_nothing(cdse, tmp_cache: Path) -> None:
    _, state, _ = cdse
    state["md5"][0] = "f" * 32
    with pytest.raises(IngestError, match="md5 .* expected f{32}"):
        download_tropomi(date(2020, 3, 3), date(2020, 3, 3), retries=1, settings=get_settings())
    assert not (tmp_cache / "downloads" / "tropomi" / NAMES[0]).exists()
    assert not [p for p in (tmp_cache / "downloads" / "tropomi").glob("*.nc")]
