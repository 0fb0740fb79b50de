"""TROPOMI L2 NO2 orbits from the Copernicus Data Space Ecosystem (CDSE) OData API.

1. Search (no credential): ``GET {cdse_catalogue_url}/Products`` with ``$filter`` =
   ``Collection/Name eq 'SENTINEL-5P' and contains(Name,'L2__NO2___') and contains(Name,'_OFFL_') and
   ContentDate/Start ge <start>T00:00:00.000Z and ContentDate/Start lt <end+1>T00:00:00.000Z``,
   ``$orderby=ContentDate/Start asc``, ``$top=100``; pages are followed through ``@odata.nextLink``.
   Each product has ``Id``, ``Name``, ``Online``, ``ContentLength`` and ``Checksum``
   (``[{"Value": ..., "Algorithm": "MD5"}, {"Algorithm": "BLAKE3", ...}]``).
2. Download: ``GET {cdse_download_url}/Products({Id})/$value`` with
   ``Authorization: Bearer <Settings.cdse_token>`` (an access token of the ``cdse-public`` OpenID client),
   into the cache as ``<Name>``, checked against the MD5 of the catalogue.  A zip answer is unpacked.
"""

from __future__ import annotations

import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from carbonmap.settings import Settings
from ingest.api_http import request_json, secret
from ingest.base import IngestError
from ingest.download import fetch

SOURCE = "tropomi"
PAGE = 100


def product_filter(start: date, end: date, mode: str = "OFFL") -> str:
    """The OData ``$filter`` of the NO2 L2 products sensed in ``start..end`` (inclusive, UTC days)."""
    stop = end + timedelta(days=1)
    return (f"Collection/Name eq 'SENTINEL-5P' and contains(Name,'L2__NO2___') and contains(Name,'_{mode}_') "
            f"and ContentDate/Start ge {start.isoformat()}T00:00:00.000Z "
            f"and ContentDate/Start lt {stop.isoformat()}T00:00:00.000Z")


def search_products(start: date, end: date, *, mode: str = "OFFL", retries: int = 3,
                    backoff_s: float = 1.0, max_pages: int = 1000, settings: Settings) -> list[dict[str, Any]]:
    """All catalogue entries of L2 NO2 orbits in the period, following ``@odata.nextLink``; ``settings``: the
    caller's (``cdse_catalogue_url``)."""
    url: str | None = settings.cdse_catalogue_url.rstrip("/") + "/Products"
    params: dict[str, str | int] | None = {"$filter": product_filter(start, end, mode),
                                           "$orderby": "ContentDate/Start asc", "$top": PAGE}
    out: list[dict[str, Any]] = []
    for _ in range(max_pages):
        if url is None:
            return out
        page = request_json(url, params=params, retries=retries, backoff_s=backoff_s)
        if not isinstance(page, dict) or not isinstance(page.get("value"), list):
            raise IngestError(f"CDSE catalogue answered no 'value' list: {str(page)[:300]}")
        out.extend(page["value"])
        url, params = page.get("@odata.nextLink"), None
    raise IngestError(f"CDSE catalogue paging did not end after {max_pages} pages")


def _md5(product: dict[str, Any]) -> str | None:
    for c in product.get("Checksum") or ():
        if str(c.get("Algorithm", "")).upper() == "MD5" and c.get("Value"):
            return str(c["Value"])
    return None


def download_tropomi(start: date, end: date, *, mode: str = "OFFL", retries: int = 3, backoff_s: float = 1.0,
                     timeout_s: float = 600.0, settings: Settings) -> list[Path]:
    """The L2 NO2 NetCDF orbits of ``start..end`` in the cache (MD5-checked); IngestError if none.
    ``settings``: the caller's (token, CDSE URLs, cache dir)."""
    token = secret("cdse_token", "TROPOMI download from the Copernicus Data Space Ecosystem", settings=settings)
    products = search_products(start, end, mode=mode, retries=retries, backoff_s=backoff_s, settings=settings)
    if not products:
        raise IngestError(f"the CDSE catalogue lists no S5P {mode} L2__NO2___ product for {start}..{end}")
    offline = [p["Name"] for p in products if p.get("Online") is False]
    if offline:
        raise IngestError(f"{len(offline)} CDSE product(s) are offline (long-term archive), e.g. {offline[0]}; "
                          f"order them on the CDSE browser first")
    root = settings.cdse_download_url.rstrip("/")
    out = []
    for p in products:
        name = str(p["Name"])
        if "/" in name or not name.startswith("S5P_"):
            raise IngestError(f"unexpected CDSE product name {name!r}")
        md5 = _md5(p)
        path = fetch(f"{root}/Products({p['Id']})/$value", source=SOURCE, filename=name,
                     headers={"Authorization": f"Bearer {token}"}, digest=("md5", md5) if md5 else None,
                     retries=retries, backoff_s=backoff_s, timeout_s=timeout_s, settings=settings)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                ncs = [n for n in zf.namelist() if n.endswith(".nc") and "/" not in n.strip("/").rsplit("/", 1)[-1]]
                if not ncs:
                    raise IngestError(f"{path.name} is a zip without a .nc file")
                for n in ncs:
                    zf.extract(n, path.parent / (path.name + ".d"))
                    out.append(path.parent / (path.name + ".d") / n)
        else:
            out.append(path)
    return out
