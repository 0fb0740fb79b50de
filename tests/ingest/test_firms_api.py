"""FIRMS area API (<= 10-day CSV calls) against a real local HTTP server imitating FIRMS."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from carbonmap.settings import get_settings
from ingest.base import IngestError
from ingest.firms import SHIPPED, FIRMSAdapter
from ingest.firms_api import chunks, download_firms, product_for


@pytest.fixture()
def firms(publisher, set_settings, data_dir: Path):
    base, routes, hits = publisher
    lines = (data_dir / SHIPPED).read_bytes().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    # the real published rows, keyed by their acq_date (2023-08-01/02)
    by_day: dict[str, list[bytes]] = {}
    for r in rows:
        by_day.setdefault(r.split(b",")[5].decode(), []).append(r)
    state = {"corrupt": False}

    def area(path: str):
        def serve(q, h, b):
            parts = path.split("/")  # /api/area/csv/KEY/PRODUCT/AREA/DAYS/DATE
            key, days, first = parts[4], int(parts[7]), date.fromisoformat(parts[8])
            if key != "mk-1":
                return 400, "text/plain", b"Invalid MAP_KEY."
            if state["corrupt"]:
                return 200, "text/html", b"<html>Exceeding allowed transaction limit.</html>"
            out = [header]
            for i in range(days):
                out += by_day.get((first + timedelta(days=i)).isoformat(), [])
            return 200, "text/csv", b"".join(out)
        return serve

    def route(key: str, product: str, days: int, first: date) -> None:
        p = f"/api/area/csv/{key}/{product}/world/{days}/{first.isoformat()}"
        routes[("GET", p)] = area(p)

    for key in ("mk-1", "bad-key"):
        for first, days in chunks(date(2023, 7, 25), date(2023, 8, 12)):
            route(key, "MODIS_SP", days, first)
    set_settings(firms_url=f"{base}/api/area/csv", firms_map_key="mk-1")
    return base, state, hits, len(rows)


def test_chunks_and_product() -> None:
    c = chunks(date(2023, 7, 25), date(2023, 8, 12))
    assert c == [(date(2023, 7, 25), 10), (date(2023, 8, 4), 9)]
    assert sum(n for _, n in c) == 19
    assert chunks(date(2023, 8, 1), date(2023, 8, 1)) == [(date(2023, 8, 1), 1)]
    assert product_for(date(2023, 8, 1), 10, today=date(2023, 8, 20)) == "MODIS_NRT"
    assert product_for(date(2023, 1, 1), 10, today=date(2023, 8, 20)) == "MODIS_SP"
    with pytest.raises(IngestError, match="before its start"):
        chunks(date(2023, 8, 2), date(2023, 8, 1))


def test_download_split_read_and_cache(firms, tmp_cache: Path) -> None:
    _, _, hits, n_rows = firms
    paths = FIRMSAdapter().download(date(2023, 7, 25), date(2023, 8, 12))
    assert len(hits) == 2  # two calls of 10 and 9 days
    assert [h[1].rsplit("/", 2)[-2:] for h in hits] == [["10", "2023-07-25"], ["9", "2023-08-04"]]
    assert len(paths) == 1 and paths[0].is_relative_to(tmp_cache)  # the second chunk has no detections
    assert "mk-1" not in paths[0].name
    grid = FIRMSAdapter().read(paths)
    assert grid.sizes["day"] == 2
    fires = len(paths[0].read_bytes().splitlines()) - 1
    assert fires == n_rows and int(grid["fire_count"].sum()) <= fires
    assert FIRMSAdapter().download(date(2023, 7, 25), date(2023, 8, 12)) == paths
    assert len(hits) == 2  # both chunks (the empty one too) come from the cache


def test_missing_and_refused_key(firms, set_settings, tmp_cache: Path) -> None:
    set_settings(firms_map_key="")
    with pytest.raises(IngestError, match="set the setting 'firms_map_key'.*CARBONMAP_FIRMS_MAP_KEY"):
        FIRMSAdapter().download(date(2023, 7, 25), date(2023, 8, 3))
    set_settings(firms_map_key="bad-key")
    with pytest.raises(IngestError, match="Invalid MAP_KEY") as e:
        download_firms(date(2023, 7, 25), date(2023, 8, 3), retries=1, settings=get_settings())
    assert "bad-key" not in str(e.value)


def test_offline_and_non_csv_answer(firms, set_settings, dead_url: str, tmp_cache: Path) -> None:
    _, state, _, _ = firms
    state["corrupt"] = True
    with pytest.raises(IngestError, match="FIRMS answered no CSV.*transaction limit"):
        download_firms(date(2023, 7, 25), date(2023, 8, 3), settings=get_settings())
    assert not [p for p in (tmp_cache / "downloads" / "firms").glob("*") if p.is_file()]
    set_settings(firms_url=f"{dead_url}/api/area/csv")
    with pytest.raises(IngestError, match="after 2 attempts.*are you offline") as e:
        download_firms(date(2023, 7, 25), date(2023, 8, 3), retries=2, backoff_s=0.01, settings=get_settings())
    assert "mk-1" not in str(e.value)
