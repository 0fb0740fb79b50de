"""carbonmap/http_policy.py: one set of HTTP caching rules for the API and the tile server.

Unit cases for ETag matching and Cache-Control, then a real uvicorn server (the full app: API + tiles) on a
cube with two releases, where a Zarr key, a tile, a WMTS document and a legend must follow the same rules
(pinned URL -> immutable, current URL -> max-age, the same If-None-Match decisions, the release header),
and a check that two apps keep separate release-diff caches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.releases import DIFFS_CACHE, cached_diff
from carbonmap import http_policy as hp
from carbonmap.registry import Registry
from carbonmap.settings import Settings
from carbonmap.storage import releases as cube_releases
from pipelines import store
from tests.api.routes.live_server import write_random_cube
from tests.pipelines.test_releases import _revise_day
from tests.tiles.conftest import start_server

DATASET = "policy-test"
CURRENT_AGE = re.compile(r"^public, max-age=\d+$")


# ----------------------------------------------------------------------------------------------- units
@pytest.mark.parametrize(("header", "matches"), [
    ('"abc"', True),
    ('W/"abc"', True),                 # If-None-Match compares weakly
    ('"x", "abc"', True),              # a list
    ('"x",W/"abc" ', True),
    ("*", True),
    ('"x", *', True),
    ('"abcd"', False),
    ('"x", "y"', False),
    ("abc", False),                    # unquoted is another tag
    ("", False),
    (None, False),
])
def test_etag_matching(header: str | None, matches: bool) -> None:
    assert hp.etag_matches(header, '"abc"') is matches


def test_etags_are_strong_quoted_and_stable() -> None:
    a, b = hp.make_etag("tile", 1, "x"), hp.make_etag("tile", 1, "y")
    assert a != b and a == hp.make_etag("tile", 1, "x") and re.fullmatch(r'"[0-9a-f]{24}"', a)
    assert hp.make_etag("a", "b") != hp.make_etag("ab")  # parts are separated, not concatenated
    assert hp.strong_etag("r0001-1a-ff") == '"r0001-1a-ff"'
    with pytest.raises(ValueError, match="quotes"):
        hp.strong_etag('a"b')


def test_cache_control_of_pinned_and_current_urls() -> None:
    assert hp.IMMUTABLE == "public, max-age=31536000, immutable"
    assert hp.cache_control(3600) == "public, max-age=3600"
    assert hp.cache_control(60, immutable=True) == hp.IMMUTABLE
    assert hp.cache_headers('"e"', 60) == {"ETag": '"e"', "Cache-Control": "public, max-age=60"}
    assert hp.immutable_url(release="r0001")                      # a pinned release never changes
    assert not hp.immutable_url(release=None)                     # the current release moves on
    assert hp.immutable_url(release=None, v="tok", token="tok")   # v= of the version served now
    assert not hp.immutable_url(release=None, v="old", token="tok")
    assert not hp.immutable_url(release=None, v=None, token=None)
    assert hp.immutable_url(release=None, final=True)


def test_release_header() -> None:
    assert hp.release_header("r0002") == {"X-Carbonmap-Release": "r0002"}
    assert hp.release_header(None) == {} and hp.release_header("") == {}
    assert hp.RELEASE_HEADER in hp.EXPOSED_HEADERS and "ETag" in hp.EXPOSED_HEADERS


# ----------------------------------------------------------------------------------------------- over HTTP
@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random cube (test data) with a second release that scales one day."""
    path = write_random_cube(tmp_path_factory.mktemp("policy") / f"{DATASET}.zarr", start="2024-01-01", days=4,
                             dataset_id=DATASET)
    _revise_day(path, 1, 1.5)
    assert store.release_ids(path) == ["r0001", "r0002"]
    return path


@pytest.fixture(scope="module")
def registry(cube: Path) -> Registry:
    reg = Registry()
    reg.add(cube)
    return reg


@pytest.fixture(scope="module")
def http(registry: Registry) -> Iterator[httpx.Client]:
    server, thread, url = start_server(create_app(registry, Settings()))
    with httpx.Client(base_url=url, timeout=60) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)


TILE = f"/tiles/{DATASET}/WebMercatorQuad/1/1/0.png"
TILE_Q = {"date": "2024-01-02", "sector": "power", "rescale": "1,1000000"}
# (name, path, query, pinned): the same resource read at the current release and pinned to r0001
CONDITIONAL = [
    ("zarr key", f"/zarr/{DATASET}/zarr.json", {}, None),
    ("zarr key, ?release=", f"/zarr/{DATASET}/zarr.json", {"release": "r0001"}, "r0001"),
    ("zarr key, release path", f"/zarr/{DATASET}/releases/r0001/zarr.json", {}, "r0001"),
    ("tile", TILE, TILE_Q, None),
    ("tile, ?release=", TILE, {**TILE_Q, "release": "r0001"}, "r0001"),
    ("wmts", f"/tiles/{DATASET}/WMTSCapabilities.xml", {}, None),
    ("wmts, ?release=", f"/tiles/{DATASET}/WMTSCapabilities.xml", {"release": "r0001"}, "r0001"),
]


@pytest.mark.parametrize(("name", "path", "query", "pinned"), CONDITIONAL, ids=[c[0] for c in CONDITIONAL])
def test_api_and_tiles_follow_the_same_cache_and_etag_rules(http: httpx.Client, name: str, path: str,
                                                            query: dict[str, str], pinned: str | None) -> None:
    r = http.get(path, params=query)
    assert r.status_code == 200, r.text
    etag, cc_value = r.headers["etag"], r.headers["cache-control"]
    assert re.fullmatch(r'"[^"]+"', etag), etag  # strong
    assert r.headers["x-carbonmap-release"] == (pinned or "r0002")
    if pinned:
        assert cc_value == hp.IMMUTABLE
    else:
        assert CURRENT_AGE.match(cc_value) and "immutable" not in cc_value
    for header in (etag, f"W/{etag}", f'"stale", {etag}', "*", '"stale"', f'"{etag.strip(chr(34))}x"'):
        again = http.get(path, params=query, headers={"If-None-Match": header})
        want = 304 if hp.etag_matches(header, etag) else 200
        assert again.status_code == want, (name, header)
        # a 304 carries the headers the 200 would have had
        assert (again.headers["etag"], again.headers["cache-control"]) == (etag, cc_value)
        assert again.headers["x-carbonmap-release"] == r.headers["x-carbonmap-release"]
        if want == 304:
            assert again.content == b""


def test_etag_of_another_release_is_not_current(http: httpx.Client) -> None:
    """A client holding r0001's answer gets r0002's from the current URL, on both servers."""
    for path, query in ((f"/zarr/{DATASET}/zarr.json", {}), (TILE, TILE_Q)):
        old = http.get(path, params={**query, "release": "r0001"}).headers["etag"]
        current = http.get(path, params=query, headers={"If-None-Match": old})
        assert current.status_code == 200 and current.headers["etag"] != old


def test_pinned_answers_without_etag_rules_are_immutable_too(http: httpx.Client) -> None:
    """TileJSON, legend and the release diff: pinned -> immutable, current -> max-age, release named."""
    for path, query in ((f"/tiles/{DATASET}/WebMercatorQuad/tilejson.json", {}),
                        (f"/tiles/{DATASET}/legend", {"sector": "power"})):
        pinned = http.get(path, params={**query, "release": "r0001"})
        current = http.get(path, params=query)
        assert pinned.headers["cache-control"] == hp.IMMUTABLE and pinned.headers["x-carbonmap-release"] == "r0001"
        assert CURRENT_AGE.match(current.headers["cache-control"])
        assert current.headers["x-carbonmap-release"] == "r0002"
    diff = http.get(f"/datasets/{DATASET}/releases/r0002/diff")
    assert diff.status_code == 200, diff.text
    assert diff.headers["cache-control"] == hp.IMMUTABLE and diff.headers["x-carbonmap-release"] == "r0002"
    assert re.fullmatch(r'"diff-[0-9a-f]{24}"', diff.headers["etag"])
    page = http.get("/")
    assert page.headers["cache-control"] == hp.NO_CACHE


def test_two_apps_do_not_share_the_release_diff_cache(registry: Registry, cube: Path) -> None:
    one, two = create_app(registry, Settings()), create_app(registry, Settings())
    url = f"/datasets/{DATASET}/releases/r0002/diff"
    with TestClient(one) as c1, TestClient(two) as c2:
        assert c1.get(url).status_code == 200
        assert DIFFS_CACHE in one.state.caches.names()
        assert DIFFS_CACHE not in two.state.caches.names()  # the second app saw nothing
        assert len(one.state.caches.lru(DIFFS_CACHE, 1)) == 1
        first = next(iter(one.state.caches.lru(DIFFS_CACHE, 1).values()))
        assert c2.get(url).json() == c1.get(url).json()
        second = next(iter(two.state.caches.lru(DIFFS_CACHE, 1).values()))
        assert second is not first and len(one.state.caches.lru(DIFFS_CACHE, 1)) == 1
        one.state.caches.clear()
        assert len(one.state.caches.lru(DIFFS_CACHE, 1)) == 0 and len(two.state.caches.lru(DIFFS_CACHE, 1)) == 1
    # without an app's caches nothing is kept (and the answer is the same)
    plain = cached_diff(cube, "r0001", "r0002")
    assert plain is not first and plain.days_revised == first.days_revised == ["2024-01-02"]
    assert isinstance(plain, cube_releases.ReleaseDiff)
