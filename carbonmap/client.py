"""A small Python client for a carbonmap server.

>>> from carbonmap.client import Client
>>> cm = Client("http://localhost:8000")
>>> cm.datasets()                                   # what the server serves
>>> ds = cm.open_dataset("demo-2024")               # xarray over HTTP (lazy Zarr reads)
>>> df = cm.region_emissions("DEU", dataset="demo-2024", freq="month")   # pandas, t CO2
>>> df = cm.polygon_emissions(geojson, dataset="demo-2024", freq="year")
>>> files = cm.release_files("demo-2024", "r0001")
>>> cm.download_release_file("demo-2024", "r0001", files[0]["name"], "data/")   # sha256 verified
>>> print(cm.citation("demo-2024", "bibtex"))

Units: ``open_dataset`` and ``download`` give the cube's units (``emissions`` kg CO2 day-1 cell-1,
``uncertainty`` relative 1-sigma); region and polygon tables are t CO2 per period with the 90% interval
(``lower``/``upper``).  Requests are retried (connection errors and 429/502/503/504) with exponential
backoff; other HTTP errors raise :class:`CarbonmapError` carrying the server's ``detail`` sentence.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

import httpx
import pandas as pd
import xarray as xr

from carbonmap import errors

RETRY_STATUS = (429, 502, 503, 504)
Freq = Literal["day", "month", "year"]


class CarbonmapError(errors.CarbonmapError, RuntimeError):
    """The server answered with an error (4xx/5xx): ``status`` and the problem's ``detail`` (the client side of
    :mod:`carbonmap.errors`' tree: ``except carbonmap.errors.CarbonmapError`` catches it too)."""

    def __init__(self, status: int, detail: str, url: str) -> None:
        super().__init__(f"{status} from {url}: {detail}")
        self.status, self.detail, self.url = status, detail, url


class ChecksumError(CarbonmapError):
    """A downloaded file's sha256 differs from the one the release lists (the file was deleted)."""


class Client:
    """A carbonmap server at ``base_url`` (e.g. ``http://localhost:8000``).

    ``retries`` attempts per request after the first (connection errors and 429/502/503/504, backoff
    ``backoff`` s doubling); ``timeout`` s per request (downloads stream with the same read timeout)."""

    def __init__(self, base_url: str, *, timeout: float = 120.0, retries: int = 3, backoff: float = 0.5,
                 headers: Mapping[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries, self.backoff = retries, backoff
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, follow_redirects=True,
                                  headers={"User-Agent": "carbonmap-client", **(headers or {})},
                                  transport=httpx.HTTPTransport(retries=retries))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ plumbing
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                r = self._http.request(method, path, **kwargs)
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
            else:
                if r.status_code not in RETRY_STATUS or attempt == self.retries:
                    _raise_for(r)
                    return r
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _get_json(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params=_clean(params)).json()

    # ------------------------------------------------------------------------------------------ catalogue
    def datasets(self) -> list[dict[str, Any]]:
        """The served datasets (``GET /datasets``): id, title, time span, resolution, links."""
        return list(self._get_json("/datasets"))

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        """One dataset's details (``GET /datasets/{id}``): sectors, countries, units, provenance."""
        return dict(self._get_json(f"/datasets/{dataset_id}"))

    def releases(self, dataset_id: str) -> list[dict[str, Any]]:
        """The dataset's published releases, newest first (``GET /datasets/{id}/releases``)."""
        body = self._get_json(f"/datasets/{dataset_id}/releases")
        return list(body.get("releases", body) if isinstance(body, dict) else body)

    def open_dataset(self, dataset_id: str, release: str | None = None, **kwargs: Any) -> xr.Dataset:
        """The cube as a lazy xarray Dataset read over HTTP from ``/zarr/{id}`` (or a pinned ``release``,
        which never changes): dims (time, sector, lat, lon), ``emissions`` kg CO2 day-1 cell-1."""
        path = f"/zarr/{dataset_id}" + (f"/releases/{release}" if release else "")
        return xr.open_zarr(self.base_url + path, consolidated=True, **kwargs)

    # ------------------------------------------------------------------------------------------ tables
    def region_emissions(self, region: str, *, dataset: str | None = None, start: str | None = None,
                         end: str | None = None, freq: Freq = "month", sectors: str | list[str] | None = None,
                         release: str | None = None) -> pd.DataFrame:
        """Emissions of a country (ISO3), XIA/XIS or the world (WLD) per period and sector, t CO2, with the
        90% interval: one row per (period, sector) as the server's tidy CSV has it."""
        r = self._request("GET", f"/regions/{region}/emissions", params=_clean({
            "dataset": dataset, "start": start, "end": end, "freq": freq, "sectors": _sectors(sectors),
            "release": release, "format": "csv"}))
        return pd.read_csv(io.StringIO(r.text))

    def polygon_emissions(self, geojson: Mapping[str, Any], *, dataset: str | None = None, start: str | None = None,
                          end: str | None = None, freq: Freq = "month", sectors: str | list[str] | None = None,
                          release: str | None = None) -> pd.DataFrame:
        """Emissions inside a GeoJSON Polygon/MultiPolygon (a Feature or FeatureCollection of one is
        unwrapped), exact fractional cell coverage, t CO2 per (period, sector) with the 90% interval."""
        geometry = dict(geojson)
        if geometry.get("type") == "FeatureCollection":
            feats = geometry.get("features") or []
            if len(feats) != 1:
                raise ValueError(f"a FeatureCollection of {len(feats)} features: pass one polygon at a time")
            geometry = dict(feats[0])
        if geometry.get("type") == "Feature":
            geometry = dict(geometry["geometry"])
        body = _clean({"geometry": geometry, "dataset": dataset, "start": start, "end": end, "freq": freq,
                       "sectors": _sectors(sectors), "release": release})
        r = self._request("POST", "/emissions/query", params={"format": "csv"}, json=body)
        return pd.read_csv(io.StringIO(r.text))

    # ------------------------------------------------------------------------------------------ files
    def download(self, dataset_id: str, dest: str | Path, *, bbox: str | None = None, start: str | None = None,
                 end: str | None = None, sectors: str | list[str] | None = None, aggregate: Freq = "day",
                 format: Literal["netcdf", "geotiff", "csv"] = "netcdf", release: str | None = None) -> Path:
        """A subset (``GET /download/{id}``) written to ``dest`` (a file, or a directory: the server's file
        name is used); ``aggregate=month`` gives monthly means (kg day-1), ``year`` annual totals (kg)."""
        params = _clean({"bbox": bbox, "start": start, "end": end, "sectors": _sectors(sectors),
                         "aggregate": aggregate, "format": format, "release": release})
        with self._stream("GET", f"/download/{dataset_id}", params=params) as r:
            target = _target(Path(dest), r)
            part = target.with_name(target.name + ".part")
            with open(part, "wb") as f:
                f.writelines(r.iter_bytes(1 << 20))
        part.replace(target)
        return target

    def release_files(self, dataset_id: str, release: str) -> list[dict[str, Any]]:
        """The files of a release (``GET /datasets/{id}/releases/{release}/files``): name, size, sha256,
        media_type, kind, period, description, href."""
        body = self._get_json(f"/datasets/{dataset_id}/releases/{release}/files")
        return list(body.get("files", []))

    def download_release_file(self, dataset_id: str, release: str, name: str, dest: str | Path) -> Path:
        """Download one release file to ``dest`` (a file or a directory), resuming a ``.part`` left by a
        broken transfer (HTTP Range), and verify its sha256 against the release's list.

        Raises :class:`ChecksumError` (and deletes the bad file) when the bytes do not match."""
        entry = next((f for f in self.release_files(dataset_id, release) if f["name"] == name), None)
        if entry is None:
            raise CarbonmapError(404, f"release {release} of {dataset_id!r} lists no file {name!r}",
                                 f"{self.base_url}/datasets/{dataset_id}/releases/{release}/files")
        dest = Path(dest)
        target = dest / name if dest.is_dir() else dest
        part = target.with_name(target.name + ".part")
        url = str(entry.get("href") or f"/datasets/{dataset_id}/releases/{release}/files/{name}")
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if 0 < have < int(entry["size"]) else {}
        with self._stream("GET", url, headers=headers) as r:
            mode = "ab" if headers and r.status_code == 206 else "wb"
            with open(part, mode) as f:
                f.writelines(r.iter_bytes(1 << 20))
        digest = _sha256(part)
        if digest != entry["sha256"]:
            part.unlink(missing_ok=True)
            raise ChecksumError(0, f"sha256 of the downloaded {name} is {digest}, the release lists "
                                   f"{entry['sha256']}; the file was deleted, download it again",
                                self.base_url + url)
        part.replace(target)
        return target

    def citation(self, dataset_id: str, format: Literal["bibtex", "ris", "cff"] = "bibtex",
                 release: str | None = None) -> str:
        """How to cite the dataset (a release of it): BibTeX, RIS or CITATION.cff text."""
        return self._request("GET", f"/datasets/{dataset_id}/citation",
                             params=_clean({"format": format, "release": release})).text

    def _stream(self, method: str, path: str, **kwargs: Any) -> _Stream:
        return _Stream(self, method, path, kwargs)


class _Stream:
    """A streamed response with the client's retries on opening it and its error handling."""

    def __init__(self, client: Client, method: str, path: str, kwargs: dict[str, Any]) -> None:
        self.client, self.method, self.path, self.kwargs = client, method, path, kwargs
        self.response: httpx.Response | None = None

    def __enter__(self) -> httpx.Response:
        c = self.client
        delay = c.backoff
        for attempt in range(c.retries + 1):
            try:
                r = c._http.send(c._http.build_request(self.method, self.path, **self.kwargs), stream=True)
            except httpx.TransportError:
                if attempt == c.retries:
                    raise
            else:
                if r.status_code not in RETRY_STATUS or attempt == c.retries:
                    if r.is_error:
                        r.read()
                        r.close()
                        _raise_for(r)
                    self.response = r
                    return r
                r.close()
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def __exit__(self, *exc: object) -> None:
        if self.response is not None:
            self.response.close()


def _raise_for(r: httpx.Response) -> None:
    if not r.is_error:
        return
    try:
        detail = str(r.json().get("detail", r.text))
    except (ValueError, AttributeError):
        detail = r.text[:500]
    raise CarbonmapError(r.status_code, detail, str(r.request.url))


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _sectors(sectors: str | list[str] | None) -> str | None:
    return ",".join(sectors) if isinstance(sectors, list) else sectors


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _target(dest: Path, r: httpx.Response) -> Path:
    if not dest.is_dir():
        return dest
    disposition = r.headers.get("content-disposition", "")
    name = disposition.split("filename=")[-1].strip('"; ') if "filename=" in disposition else "download"
    return dest / Path(name).name


__all__ = ["CarbonmapError", "ChecksumError", "Client"]
