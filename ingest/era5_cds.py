"""ERA5 2 m temperature from the Copernicus Climate Data Store (CDS) retrieve API, one NetCDF per month.

Request flow (CDS API v1, the service behind ``cdsapi`` >= 0.7 / ``ecmwf-datastores-client``), all with
header ``PRIVATE-TOKEN: <Settings.cds_api_key>``:

1. ``POST {cds_url}/retrieve/v1/processes/reanalysis-era5-single-levels/execution`` with body
   ``{"inputs": {...}}`` -> ``{"jobID": ..., "status": "accepted", ...}``;
2. ``GET {cds_url}/retrieve/v1/jobs/{jobID}`` until ``status`` is ``successful`` (``failed`` or
   ``dismissed`` -> IngestError with the job's reason);
3. ``GET {cds_url}/retrieve/v1/jobs/{jobID}/results`` -> ``{"asset": {"value": {"href": ..., "file:checksum":
   ..., "file:size": ...}}}``; the href is fetched into the cache with :func:`ingest.download.fetch` and
   checked against ``file:checksum`` (MD5 hex) and ``file:size``.

A month already in the cache (``era5_t2m_YYYY-MM.nc``) is not requested again.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import date
from pathlib import Path

from carbonmap.settings import Settings
from ingest.api_http import request_json, secret
from ingest.base import IngestError
from ingest.download import cache_path, fetch

DATASET = "reanalysis-era5-single-levels"
SOURCE = "era5"


def months(start: date, end: date) -> list[tuple[int, int]]:
    """The (year, month) pairs touched by ``start..end`` (inclusive)."""
    if end < start:
        raise IngestError(f"period end {end} is before its start {start}")
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_request(year: int, month: int, start: date, end: date) -> dict[str, object]:
    """The CDS ``inputs`` of one month of hourly 2 m temperature, clipped to ``start..end``."""
    last = calendar.monthrange(year, month)[1]
    d0 = start.day if (year, month) == (start.year, start.month) else 1
    d1 = end.day if (year, month) == (end.year, end.month) else last
    return {
        "product_type": ["reanalysis"],
        "variable": ["2m_temperature"],
        "year": [f"{year}"],
        "month": [f"{month:02d}"],
        "day": [f"{d:02d}" for d in range(d0, d1 + 1)],
        "time": [f"{h:02d}:00" for h in range(24)],
        "data_format": "netcdf",
        "download_format": "unarchived",
    }


def _file_name(year: int, month: int, req: dict[str, object]) -> str:
    days = req["day"]
    assert isinstance(days, list)
    return f"era5_t2m_{year}-{month:02d}_{days[0]}-{days[-1]}.nc"


def download_era5(start: date, end: date, *, poll_s: float = 5.0, max_wait_s: float = 6 * 3600,
                  retries: int = 3, backoff_s: float = 1.0, timeout_s: float = 120.0, settings: Settings
                  ) -> list[Path]:
    """NetCDF files of hourly ERA5 2 m temperature (K) covering ``start..end``, one per month, cached.
    ``settings``: the caller's (key, ``cds_url``, cache dir)."""
    key = secret("cds_api_key", "ERA5 download from the Copernicus Climate Data Store", settings=settings)
    root = settings.cds_url.rstrip("/")
    hdr = {"PRIVATE-TOKEN": key}
    kw = {"headers": hdr, "retries": retries, "backoff_s": backoff_s, "timeout_s": timeout_s, "redact": (key,)}
    out = []
    for y, m in months(start, end):
        req = month_request(y, m, start, end)
        name = _file_name(y, m, req)
        cached = cache_path(SOURCE, name, name, settings=settings)
        if cached.exists() and cached.with_name(cached.name + ".sha256").exists():
            out.append(cached)
            continue
        job = request_json(f"{root}/retrieve/v1/processes/{DATASET}/execution", method="POST",
                           json_body={"inputs": req}, **kw)
        job_id = job.get("jobID") if isinstance(job, dict) else None
        if not job_id:
            raise IngestError(f"CDS did not accept the ERA5 request for {y}-{m:02d}: {str(job)[:300]}")
        waited = 0.0
        status = str(job.get("status", "accepted"))
        while status in ("accepted", "running"):
            if waited > max_wait_s:
                raise IngestError(f"CDS job {job_id} for ERA5 {y}-{m:02d} still {status} after {max_wait_s:.0f} s")
            time.sleep(poll_s)
            waited += poll_s
            status = str(request_json(f"{root}/retrieve/v1/jobs/{job_id}", **kw).get("status"))
        if status != "successful":
            raise IngestError(f"CDS job {job_id} for ERA5 {y}-{m:02d} ended {status!r}; see "
                              f"https://cds.climate.copernicus.eu/requests")
        res = request_json(f"{root}/retrieve/v1/jobs/{job_id}/results", **kw)
        try:
            asset = res["asset"]["value"]
            href = str(asset["href"])
        except (KeyError, TypeError):
            raise IngestError(f"CDS results of job {job_id} have no asset href: {str(res)[:300]}") from None
        checksum = str(asset.get("file:checksum") or "")
        digest = ("md5", checksum) if re.fullmatch(r"[0-9a-fA-F]{32}", checksum) else None
        p = fetch(href, source=SOURCE, filename=name, digest=digest, retries=retries, backoff_s=backoff_s,
                  timeout_s=timeout_s, settings=settings)
        size = asset.get("file:size")
        if size is not None and p.stat().st_size != int(size):
            got = p.stat().st_size
            p.unlink(missing_ok=True)
            p.with_name(p.name + ".sha256").unlink(missing_ok=True)
            raise IngestError(f"ERA5 file of job {job_id} has {got} bytes, the CDS announced {size}")
        out.append(p)
    return out
