"""NASA Earthdata: CMR granule search and bearer-token download of granules (OMI OMNO2d, VIIRS VNP46A2).

Search (public, no credential needed): ``GET {cmr_url}/granules.umm_json?short_name=..&version=..
&provider=..&temporal=<start>T00:00:00Z,<end>T23:59:59Z&page_size=..&page_num=..&sort_key=start_date``
-> ``{"hits": N, "items": [{"meta": {...}, "umm": {"GranuleUR": ..., "RelatedUrls": [{"URL": ...,
"Type": "GET DATA"}, ...], "DataGranule": {"ArchiveAndDistributionInformation": [{"Name": ...,
"SizeInBytes": ..., "Checksum": {"Value": ..., "Algorithm": "MD5"}}]}}}]}``.  Pages are requested until
``hits`` granules are collected (or a page comes back short).

Download: each granule's HTTPS ``GET DATA`` URL through :func:`ingest.download.fetch` with header
``Authorization: Bearer <Settings.earthdata_token>`` (an Earthdata Login user token), checked against
the CMR checksum when CMR publishes one (MD5 / SHA-1 / SHA-256 / SHA-512), cached under
``downloads/<source>/<file name>``; a granule already cached is not fetched again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from carbonmap.settings import Settings
from ingest.api_http import request_json, secret
from ingest.base import IngestError
from ingest.download import fetch

_ALGOS = {"MD5": "md5", "SHA-1": "sha1", "SHA1": "sha1", "SHA-256": "sha256", "SHA256": "sha256",
          "SHA-512": "sha512", "SHA512": "sha512"}
"""CMR UMM-G checksum algorithm names -> hashlib names (others, e.g. Adler-32, are not checked)."""


@dataclass(frozen=True)
class Collection:
    """One CMR collection: ``short_name``, ``version`` and the ``provider`` (DAAC) that holds it."""

    short_name: str
    version: str
    provider: str


OMNO2D = Collection("OMNO2d", "003", "GES_DISC")
"""OMI/Aura NO2 total and tropospheric column daily L3 global 0.25 degree (HDF-EOS5 ``.he5``)."""
VNP46A2 = Collection("VNP46A2", "1", "LAADS")
"""VIIRS/NPP Black Marble daily gap-filled BRDF-corrected night lights, 10 degree tiles (HDF5 ``.h5``)."""


@dataclass(frozen=True)
class Granule:
    """One granule found in CMR: its file ``name``, HTTPS ``url``, ``size`` (bytes) and ``checksum``."""

    name: str
    url: str
    size: int | None = None
    checksum: tuple[str, str] | None = None
    """``(hashlib algorithm, hex digest)`` as published in CMR, or None."""


def temporal(start: date, end: date) -> str:
    """CMR ``temporal`` parameter covering the UTC days ``start..end`` (inclusive)."""
    if end < start:
        raise IngestError(f"period end {end} is before its start {start}")
    return f"{start.isoformat()}T00:00:00Z,{end.isoformat()}T23:59:59Z"


def parse_granule(item: Any) -> Granule:
    """A CMR UMM-G ``items[]`` entry -> :class:`Granule` (IngestError if it has no HTTPS data URL)."""
    umm = item.get("umm", {}) if isinstance(item, dict) else {}
    ur = str(umm.get("GranuleUR") or item.get("meta", {}).get("native-id", "?") if isinstance(item, dict) else "?")
    urls = [u for u in umm.get("RelatedUrls") or [] if isinstance(u, dict) and u.get("Type") == "GET DATA"
            and str(u.get("URL", "")).startswith(("https://", "http://"))]
    if not urls:
        raise IngestError(f"CMR granule {ur} has no HTTPS 'GET DATA' link")
    url = str(urls[0]["URL"])
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    size, checksum = None, None
    infos = (umm.get("DataGranule") or {}).get("ArchiveAndDistributionInformation") or []
    info = next((i for i in infos if isinstance(i, dict) and i.get("Name") == name), infos[0] if len(infos) == 1
                else None)
    if isinstance(info, dict):
        if info.get("SizeInBytes") is not None:
            size = int(info["SizeInBytes"])
        ck = info.get("Checksum") or {}
        algo = _ALGOS.get(str(ck.get("Algorithm", "")).upper())
        value = str(ck.get("Value", ""))
        if algo and re.fullmatch(r"[0-9a-fA-F]+", value):
            checksum = (algo, value.lower())
    return Granule(name=name, url=url, size=size, checksum=checksum)


def search_granules(collection: Collection, start: date, end: date, *, bounding_box: Sequence[float] | None = None,
                    page_size: int = 500, retries: int = 3, backoff_s: float = 1.0,
                    timeout_s: float = 60.0, settings: Settings) -> list[Granule]:
    """Granules of ``collection`` overlapping the UTC days ``start..end``, oldest first (all pages).

    ``bounding_box`` is ``(west, south, east, north)`` in degrees; None = global.  ``settings``: the caller's
    (``cmr_url``).
    """
    root = settings.cmr_url.rstrip("/")
    params: dict[str, str | int] = {"short_name": collection.short_name, "version": collection.version,
                                    "provider": collection.provider, "temporal": temporal(start, end),
                                    "page_size": page_size, "sort_key": "start_date"}
    if bounding_box is not None:
        w, s, e, n = (float(v) for v in bounding_box)
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            raise IngestError(f"bounding box {tuple(bounding_box)} is not west,south,east,north in degrees")
        params["bounding_box"] = f"{w:g},{s:g},{e:g},{n:g}"
    out: list[Granule] = []
    page = 1
    while True:
        res = request_json(f"{root}/granules.umm_json", params={**params, "page_num": page},
                           headers={"Accept": "application/json"}, retries=retries, backoff_s=backoff_s,
                           timeout_s=timeout_s)
        if not isinstance(res, dict) or "items" not in res:
            raise IngestError(f"CMR did not answer a UMM-G granule list for {collection.short_name}: {str(res)[:300]}")
        items = res["items"] or []
        out += [parse_granule(i) for i in items]
        hits = int(res.get("hits", len(out)))
        if len(out) >= hits or len(items) < page_size:
            break
        page += 1
    return out


def download_granules(granules: Sequence[Granule], *, source: str, what: str, retries: int = 3,
                      backoff_s: float = 1.0, timeout_s: float = 300.0, settings: Settings) -> list[Path]:
    """Fetch ``granules`` into ``downloads/<source>/`` with the Earthdata bearer token; cached paths.

    Raises IngestError naming ``earthdata_token`` when it is unset, on a checksum or size mismatch (the
    file is then not kept) and when offline.
    """
    token = secret("earthdata_token", what, settings=settings)
    out = []
    for g in granules:
        p = fetch(g.url, source=source, filename=g.name, digest=g.checksum, retries=retries, backoff_s=backoff_s,
                  timeout_s=timeout_s, headers={"Authorization": f"Bearer {token}"}, settings=settings)
        if g.size is not None and p.stat().st_size != g.size:
            got = p.stat().st_size
            p.unlink(missing_ok=True)
            p.with_name(p.name + ".sha256").unlink(missing_ok=True)
            raise IngestError(f"{g.name} has {got} bytes, CMR announced {g.size}; the transfer was truncated")
        out.append(p)
    return out


def download_collection(collection: Collection, start: date, end: date, *, source: str,
                        bounding_box: Sequence[float] | None = None, settings: Settings, **kw: Any) -> list[Path]:
    """Search CMR for ``collection`` over ``start..end`` and download every granule (see above); ``settings``: the
    caller's (an adapter's)."""
    what = f"{collection.short_name} download from NASA Earthdata"
    secret("earthdata_token", what, settings=settings)  # fail before searching when the credential is missing
    search_kw = {k: v for k, v in kw.items() if k in ("retries", "backoff_s")}
    granules = search_granules(collection, start, end, bounding_box=bounding_box, settings=settings, **search_kw)
    if not granules:
        raise IngestError(f"CMR lists no {collection.short_name} v{collection.version} granules for {start}..{end}")
    return download_granules(granules, source=source, what=what, settings=settings, **kw)
