"""NASA FIRMS area API: MODIS active fires of any past period as CSV, in calls of at most 10 days.

Request: ``GET {firms_url}/{MAP_KEY}/{product}/{area}/{days}/{YYYY-MM-DD}`` (``area`` = ``world`` or
``west,south,east,north``; ``days`` 1..10 counted from the date) -> CSV with the columns of
:data:`ingest.firms.COLUMNS` (plus ``instrument`` and, for ``MODIS_SP``, ``type``).  An invalid key or an
exhausted transaction quota comes back as a short text body (e.g. ``Invalid MAP_KEY.``), not CSV.

``product`` is ``MODIS_NRT`` (near real time, the last months) for chunks ending within
:data:`NRT_DAYS` days of today and ``MODIS_SP`` (standard processing, the archive) for older ones.
Chunks are cached atomically as ``firms_<product>_<area>_<YYYY-MM-DD>_<days>d.csv`` with a sha256
sidecar (FIRMS publishes no checksum); the key (``Settings.firms_map_key``) never enters a file name
or an error message.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from carbonmap.contract import sha256_file
from carbonmap.settings import Settings
from ingest.api_http import request, secret
from ingest.base import IngestError
from ingest.download import cache_path, store_download

SOURCE = "firms"
MAX_DAYS = 10
"""Longest day range one area-API call accepts."""
NRT_DAYS = 60
"""Chunks ending within this many days of today use MODIS_NRT; older ones MODIS_SP (the archive)."""
CSV_HEADER = b"latitude,longitude,"


def chunks(start: date, end: date, max_days: int = MAX_DAYS) -> list[tuple[date, int]]:
    """``(first day, number of days)`` calls covering ``start..end`` (inclusive), each <= ``max_days``."""
    if end < start:
        raise IngestError(f"period end {end} is before its start {start}")
    out, d = [], start
    while d <= end:
        n = min(max_days, (end - d).days + 1)
        out.append((d, n))
        d += timedelta(days=n)
    return out


def product_for(first: date, days: int, today: date | None = None) -> str:
    """``MODIS_NRT`` if the chunk ends within :data:`NRT_DAYS` of ``today``, else ``MODIS_SP``."""
    last = first + timedelta(days=days - 1)
    return "MODIS_NRT" if ((today or date.today()) - last).days <= NRT_DAYS else "MODIS_SP"


def _area_token(area: str) -> str:
    if area == "world":
        return area
    parts = area.split(",")
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError:
        raise IngestError(f"FIRMS area {area!r} must be 'world' or 'west,south,east,north'") from None
    if len(parts) != 4 or not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise IngestError(f"FIRMS area {area!r} must be 'world' or 'west,south,east,north' in degrees")
    return area


def download_firms(start: date, end: date, *, area: str = "world", product: str | None = None,
                   retries: int = 3, backoff_s: float = 1.0, timeout_s: float = 300.0, settings: Settings
                   ) -> list[Path]:
    """FIRMS MODIS CSVs covering ``start..end`` (one per <= 10-day call), cached; chunks without detections
    are cached but not returned.

    ``product`` forces ``MODIS_NRT`` or ``MODIS_SP`` for every chunk (default: :func:`product_for`).
    ``settings``: the caller's (MAP_KEY, ``firms_url``, cache dir).
    """
    key = secret("firms_map_key", "FIRMS area API download", settings=settings)
    root = settings.firms_url.rstrip("/")
    area = _area_token(area)
    safe_area = "world" if area == "world" else re.sub(r"[^0-9.,-]", "", area).replace(",", "_")
    out = []
    for first, days in chunks(start, end):
        prod = product or product_for(first, days)
        name = f"firms_{prod}_{safe_area}_{first.isoformat()}_{days}d.csv"
        dest = cache_path(SOURCE, name, name, settings=settings)
        side = dest.with_name(dest.name + ".sha256")
        if dest.exists() and side.exists() and sha256_file(dest) == side.read_text().strip():
            out.append(dest)
            continue
        body = request(f"{root}/{key}/{prod}/{area}/{days}/{first.isoformat()}", retries=retries,
                       backoff_s=backoff_s, timeout_s=timeout_s, redact=(key,),
                       headers={"Accept": "text/csv, text/plain;q=0.5"})
        if not body.startswith(CSV_HEADER):
            text = body[:200].decode("utf-8", "replace").replace(key, "***").strip()
            hint = " (the setting 'firms_map_key' was refused)" if "key" in text.lower() else ""
            raise IngestError(f"FIRMS answered no CSV for {prod} {first}+{days}d: {text!r}{hint}")
        store_download(dest, body)
        out.append(dest)
    return [p for p in out if _has_rows(p)]


def _has_rows(path: Path) -> bool:
    """True if the cached CSV holds at least one detection below its header."""
    with open(path, "rb") as f:
        f.readline()
        return bool(f.readline().strip())
