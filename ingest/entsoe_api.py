"""ENTSO-E Transparency Platform RESTful API: actual generation per production type (A75/A16) as XML.

Request (one per country and calendar month, so months cache independently and stay within the API's
one-year limit): ``GET {entsoe_url}?securityToken=<Settings.entsoe_token>&documentType=A75&processType=A16
&in_Domain=<EIC>&periodStart=YYYYMMDDHHMM&periodEnd=YYYYMMDDHHMM`` (UTC).  The answer is a
``GL_MarketDocument`` (generation and load, IEC 62325-451-6); "no data" comes back as an
``Acknowledgement_MarketDocument`` whose ``Reason/code`` is 999.  Bodies are cached atomically as
``entsoe_A75_<ISO2>_<YYYY-MM>.xml`` with a sha256 sidecar (the API publishes no checksum).

:func:`read_agpt_xml` turns a cached document into the daily long table of :mod:`ingest.entsoe`
(``iso2, day, production_type, mwh, hours``); ``TimeSeries`` with an ``outBiddingZone_Domain``
(consumption of storage) are skipped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap.contract import sha256_file
from carbonmap.settings import Settings
from ingest.api_http import APIHTTPError, request, secret
from ingest.base import IngestError
from ingest.download import cache_path, store_download

SOURCE = "entsoe"
AREAS: dict[str, str] = {
    "AT": "10YAT-APG------L", "BE": "10YBE----------2", "CZ": "10YCZ-CEPS-----N", "DE": "10Y1001A1001A83F",
    "ES": "10YES-REE------0", "FR": "10YFR-RTE------C", "GR": "10YGR-HTSO-----Y", "IT": "10YIT-GRTN-----B",
    "NL": "10YNL----------L", "PL": "10YPL-AREA-----S", "PT": "10YPT-REN------W", "RO": "10YRO-TEL------P",
}
"""ISO2 -> EIC code of the country area queried by default."""
PSR_TYPES: dict[str, str] = {
    "B01": "Biomass", "B02": "Fossil Brown coal/Lignite", "B03": "Fossil Coal-derived gas", "B04": "Fossil Gas",
    "B05": "Fossil Hard coal", "B06": "Fossil Oil", "B07": "Fossil Oil shale", "B08": "Fossil Peat",
    "B09": "Geothermal", "B10": "Hydro Pumped Storage", "B11": "Hydro Run-of-river and poundage",
    "B12": "Hydro Water Reservoir", "B13": "Marine", "B14": "Nuclear", "B15": "Other renewable", "B16": "Solar",
    "B17": "Waste", "B18": "Wind Offshore", "B19": "Wind Onshore", "B20": "Other", "B25": "Energy storage",
}
"""ENTSO-E psrType codes -> production type names (as in the CSV exports)."""
_RES = {"PT15M": timedelta(minutes=15), "PT30M": timedelta(minutes=30), "PT60M": timedelta(hours=1)}


def _month_bounds(y: int, m: int, start: date, end: date) -> tuple[datetime, datetime]:
    m0 = datetime(y, m, 1, tzinfo=UTC)
    m1 = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    s = max(m0, datetime(start.year, start.month, start.day, tzinfo=UTC))
    e = min(m1, datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1))
    return s, e


def _no_data(body: bytes) -> str | None:
    """The reason text if ``body`` is an Acknowledgement_MarketDocument, else None."""
    if b"Acknowledgement_MarketDocument" not in body[:500]:
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return body[:200].decode("utf-8", "replace")
    texts = [el.text or "" for el in root.iter() if el.tag.endswith("}text") or el.tag == "text"]
    codes = [el.text or "" for el in root.iter() if el.tag.endswith("}code") or el.tag == "code"]
    return f"{' '.join(codes)} {' '.join(texts)}".strip()


def download_entsoe(start: date, end: date, areas: dict[str, str] | None = None, *, retries: int = 3,
                    backoff_s: float = 1.0, timeout_s: float = 120.0, settings: Settings) -> list[Path]:
    """A75 XML documents of ``start..end`` per country and month, cached; months without data are skipped.
    ``settings``: the caller's (token, ``entsoe_url``, cache dir)."""
    from ingest.era5_cds import months

    token = secret("entsoe_token", "ENTSO-E download from the Transparency Platform RESTful API", settings=settings)
    url = settings.entsoe_url
    out: list[Path] = []
    empty: list[str] = []
    for iso2, eic in (areas or AREAS).items():
        for y, m in months(start, end):
            s, e = _month_bounds(y, m, start, end)
            name = f"entsoe_A75_{iso2}_{s:%Y%m%d}-{e:%Y%m%d}.xml"
            dest = cache_path(SOURCE, name, name, settings=settings)
            side = dest.with_name(dest.name + ".sha256")
            if dest.exists() and side.exists() and sha256_file(dest) == side.read_text().strip():
                out.append(dest)
                continue
            params = {"securityToken": token, "documentType": "A75", "processType": "A16", "in_Domain": eic,
                      "periodStart": f"{s:%Y%m%d%H%M}", "periodEnd": f"{e:%Y%m%d%H%M}"}
            try:
                body = request(url, params=params, retries=retries, backoff_s=backoff_s, timeout_s=timeout_s,
                               redact=(token,))
            except APIHTTPError as err:
                reason = _no_data(err.body)
                if reason is None or "999" not in reason:
                    raise
                body = err.body
            reason = _no_data(body)
            if reason is not None:
                if "999" in reason or "No matching data" in reason:
                    empty.append(f"{iso2} {y}-{m:02d}")
                    continue
                raise IngestError(f"ENTSO-E refused the A75 request for {iso2} {y}-{m:02d}: {reason}")
            if b"GL_MarketDocument" not in body[:500]:
                raise IngestError(f"ENTSO-E answered neither a GL_MarketDocument nor an acknowledgement for "
                                  f"{iso2} {y}-{m:02d}: {body[:120]!r}")
            store_download(dest, body)
            out.append(dest)
    if not out:
        raise IngestError(f"ENTSO-E has no actual generation data for {start}..{end} ({', '.join(empty)})")
    return out


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in el if c.tag.rsplit("}", 1)[-1] == name), None)


def _text(el: ET.Element, path: str) -> str | None:
    cur: ET.Element | None = el
    for part in path.split("/"):
        cur = _child(cur, part) if cur is not None else None
    return cur.text.strip() if cur is not None and cur.text else None


def read_agpt_xml(path: Path, iso2: str | None = None) -> pd.DataFrame:
    """A cached A75 ``GL_MarketDocument`` -> daily ``iso2, day, production_type, mwh, hours`` (UTC days).

    ``iso2`` defaults to the one in the file name (``entsoe_A75_<ISO2>_...``) or, failing that, the
    :data:`AREAS` entry of the series' ``inBiddingZone_Domain.mRID``.
    """
    from ingest.entsoe import _check_mw, _to_daily

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"ENTSO-E file not found: {path}")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise IngestError(f"{path.name} is not well-formed XML: {e}") from e
    if not root.tag.endswith("GL_MarketDocument"):
        raise IngestError(f"{path.name}: expected a GL_MarketDocument, found {root.tag.rsplit('}', 1)[-1]}")
    by_eic = {v: k for k, v in AREAS.items()}
    name_iso = path.name.split("_")[2] if path.name.startswith("entsoe_A75_") else None
    t_all, h_all, p_all, mw_all, iso_all = [], [], [], [], []
    for ts in (c for c in root if c.tag.endswith("TimeSeries")):
        if _child(ts, "outBiddingZone_Domain.mRID") is not None:
            continue  # consumption (pumping, charging)
        psr = _text(ts, "MktPSRType/psrType")
        if psr not in PSR_TYPES:
            raise IngestError(f"{path.name}: unknown psrType {psr!r}")
        eic = _text(ts, "inBiddingZone_Domain.mRID")
        cc = iso2 or name_iso or by_eic.get(eic or "")
        if not cc:
            raise IngestError(f"{path.name}: cannot tell the country of area {eic!r}")
        for period in (c for c in ts if c.tag.endswith("Period")):
            start_s, res_s = _text(period, "timeInterval/start"), _text(period, "resolution")
            if start_s is None or res_s not in _RES:
                raise IngestError(f"{path.name}: Period without timeInterval/start or with resolution {res_s!r}")
            t0 = pd.Timestamp(start_s)
            step = _RES[res_s]
            for pt in (c for c in period if c.tag.endswith("Point")):
                pos, q = _text(pt, "position"), _text(pt, "quantity")
                if pos is None or q is None:
                    raise IngestError(f"{path.name}: a Point lacks position or quantity")
                t_all.append(t0 + (int(pos) - 1) * step)
                h_all.append(step.total_seconds() / 3600.0)
                p_all.append(PSR_TYPES[psr])
                mw_all.append(float(q))
                iso_all.append(cc)
    if not t_all:
        raise IngestError(f"{path.name}: the document has no generation TimeSeries")
    mw = np.asarray(mw_all, np.float64)
    _check_mw(mw, path.name)
    key = pd.DataFrame({"iso2": iso_all, "t": t_all, "p": p_all})
    if key.duplicated().any():
        r = key[key.duplicated()].iloc[0]
        raise IngestError(f"{path.name}: duplicate point for {r['iso2']} {r['p']} at {r['t']}")
    out = _to_daily(pd.Series(iso_all).to_numpy(), pd.Series(pd.DatetimeIndex(t_all).tz_convert("UTC")),
                    np.asarray(h_all), pd.Series(p_all), mw)
    out.attrs["source_file"] = path.name
    return out
