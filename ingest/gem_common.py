"""Shared helpers of the facility tables (GEM trackers, SFI GeoAsset): reading, checks, countries, download.

- :func:`read_table` reads a published CSV (plain or ``.gz``) or one sheet of an ``.xlsx`` workbook and
  refuses truncated files (a CSV that does not end with a newline, a cut gzip stream).
- :func:`require_columns`, :func:`check_median` (a unit check: a capacity column whose median lies
  outside a plausible range is in the wrong unit, e.g. kt read as Mt), :func:`check_unique`.
- :func:`place` keeps the rows with valid coordinates (EPSG:4326 degrees) and warns with the count of
  rows it dropped; more than :data:`MAX_BAD_COORD_SHARE` of bad rows means a broken file (IngestError).
- :func:`country_iso3`: GEM's country/area names -> ISO 3166-1 alpha-3 via :mod:`ingest.country_names`
  plus :data:`GEM_ALIASES` (names only GEM uses; overseas territories keep their own code).
- :class:`FacilityAdapter`: ``download`` fetches a table's fixed URLs (one vintage, so ``start``/``end``
  are ignored) through :func:`ingest.download.fetch`; the URLs can be replaced (a mirror, a newer release).
"""

from __future__ import annotations

import gzip
import io
import urllib.parse
import warnings
import zlib
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from carbonmap.settings import Settings
from ingest.base import BaseAdapter, IngestError
from ingest.country_names import NAME_TO_ISO3

MAX_BAD_COORD_SHARE = 0.05
"""Above this share of rows without valid coordinates a file is broken (swapped or garbled columns)."""
MIN_BAD_COORD_ROWS = 10
"""... but a handful of unlocated rows (at most this many) is always tolerated and only warned about."""

GEM_ALIASES: dict[str, str] = {
    "DR Congo": "COD", "French Guiana": "GUF", "Guadeloupe": "GLP", "Hong Kong": "HKG", "Macao": "MAC",
    "Martinique": "MTQ", "New Caledonia": "NCL", "Puerto Rico": "PRI", "Réunion": "REU", "Taiwan": "TWN",
    "Türkiye": "TUR", "Western Sahara": "ESH", "Kosovo": "KSV",
}
"""GEM country/area names missing from :data:`ingest.country_names.NAME_TO_ISO3`."""


class DroppedRowsWarning(UserWarning):
    """Rows of a facility table were dropped (no usable coordinates); the message gives the count."""


def read_table(path: Path, *, what: str, sheet: str | None = None, header_has: str | None = None) -> pd.DataFrame:
    """Read a CSV (``.csv`` / ``.csv.gz``) as strings-or-numbers, or the sheet of an ``.xlsx`` workbook.

    For a workbook, ``sheet`` names the sheet (case-insensitive); failing that, the first sheet whose
    header row contains ``header_has`` is used.  Raises IngestError for a missing, truncated or
    unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{what}: file not found: {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_sheet(path, what=what, sheet=sheet, header_has=header_has)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (EOFError, OSError, zlib.error) as e:
        raise IngestError(f"{what}: {path.name} is a truncated or corrupt gzip file ({e})") from e
    if not raw.strip():
        raise IngestError(f"{what}: {path.name} is empty")
    if not raw.endswith(b"\n"):
        raise IngestError(f"{what}: {path.name} does not end with a newline: the file is truncated")

    try:
        return pd.read_csv(io.BytesIO(raw), low_memory=False, encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise IngestError(f"{what}: {path.name} is not a readable UTF-8 CSV: {e}") from e


def header_of(path: Path) -> list[str]:
    """Column names of a CSV (``.csv`` / ``.csv.gz``) from its first line; [] if unreadable."""
    import csv

    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            return next(csv.reader([f.readline()]), [])
    except (OSError, EOFError, UnicodeDecodeError, zlib.error):
        return []


def _open_book(path: Path, what: str) -> pd.ExcelFile:
    try:
        return pd.ExcelFile(path, engine="openpyxl")
    except Exception as e:  # openpyxl raises zipfile/KeyError/ValueError/OSError on a broken workbook
        raise IngestError(f"{what}: {Path(path).name} is not a readable .xlsx workbook ({e})") from e


def _read_sheet(path: Path, *, what: str, sheet: str | None, header_has: str | None) -> pd.DataFrame:
    book = _open_book(path, what)
    names = list(map(str, book.sheet_names))
    chosen = next((n for n in names if sheet is not None and n.strip().lower() == sheet.lower()), None)
    if chosen is None and header_has is not None:
        for n in names:
            head = pd.read_excel(book, sheet_name=n, nrows=0)
            if header_has in map(str, head.columns):
                chosen = n
                break
    if chosen is None:
        raise IngestError(f"{what}: workbook {path.name} has no sheet {sheet!r} (sheets: {names})")
    return pd.read_excel(book, sheet_name=chosen)


def read_sheet_raw(path: Path, *, what: str, first_cell_has: str) -> pd.DataFrame:
    """The sheet of a workbook whose first cell contains ``first_cell_has``, read without a header."""
    book = _open_book(path, what)
    for n in book.sheet_names:
        df = pd.read_excel(book, sheet_name=n, header=None)
        if df.size and first_cell_has.lower() in str(df.iat[0, 0]).lower():
            return df
    raise IngestError(f"{what}: workbook {Path(path).name} has no sheet starting with {first_cell_has!r}")


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, what: str) -> None:
    """IngestError naming the required columns ``df`` lacks."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise IngestError(f"{what} lacks the column(s) {missing}; is this the published file?")


def check_unique(values: pd.Series, *, what: str, key: str) -> None:
    """IngestError naming the first repeated value of an id column."""
    dup = values[values.duplicated()]
    if len(dup):
        raise IngestError(f"{what}: {key} {dup.iloc[0]!r} occurs more than once (duplicate rows?)")


def check_median(values: pd.Series, lo: float, hi: float, *, what: str, unit: str) -> None:
    """Unit check: the median of the positive values must lie in ``[lo, hi]`` (in ``unit``)."""
    v = pd.to_numeric(values, errors="coerce")
    if (v < 0).any():
        raise IngestError(f"{what}: negative value {v[v < 0].iloc[0]} {unit}")
    pos = v[v > 0]
    if pos.empty:
        return
    med = float(pos.median())
    if not lo <= med <= hi:
        raise IngestError(f"{what}: median {med:g} {unit} is outside the plausible {lo:g}..{hi:g} {unit}; "
                          f"wrong unit (a factor of 1000?)")


def number(s: pd.Series) -> pd.Series:
    """Numbers of a published column; text such as ``unknown``, ``>0``, ``n/a`` becomes NaN."""
    return pd.to_numeric(s, errors="coerce").astype("float64")


def year_of(s: pd.Series) -> pd.Series:
    """The year (Int64) of values such as ``2003``, ``2003.0``, ``2016-06``, ``2011-11-03``; NA otherwise."""
    txt = s.astype("string").str.strip()
    m = txt.str.extract(r"^(\d{4})(?:\.0+)?(?:-\d{1,2}(?:-\d{1,2})?)?$", expand=False)
    return pd.to_numeric(m, errors="coerce").astype("Int64")


def split_coordinates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``"lat, lon"`` text -> (lat, lon) floats; NaN where the text is not two numbers."""
    parts = s.astype("string").str.extract(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
    return number(parts[0]), number(parts[1])


def place(df: pd.DataFrame, *, what: str, id_col: str) -> pd.DataFrame:
    """Rows of ``df`` with valid ``lat``/``lon``; warns with the count dropped; IngestError if too many.

    ``attrs['dropped_no_coords']`` = the ids of the dropped rows.
    """
    ok = df["lat"].between(-90, 90) & df["lon"].between(-180, 180)
    bad = df.loc[~ok, id_col].astype(str).tolist()
    if len(bad) > max(MIN_BAD_COORD_ROWS, MAX_BAD_COORD_SHARE * len(df)):
        raise IngestError(f"{what}: {len(bad)} of {len(df)} rows have no valid coordinates (first: {bad[0]}); "
                          f"latitude/longitude swapped or garbled?")
    out = df[ok].reset_index(drop=True)
    if bad:
        warnings.warn(f"{what}: dropped {len(bad)} row(s) without valid coordinates: {', '.join(bad[:5])}",
                      DroppedRowsWarning, stacklevel=3)
    out.attrs["dropped_no_coords"] = bad
    return out


def country_iso3(names: pd.Series, *, what: str) -> pd.Series:
    """ISO3 codes of GEM country/area names; IngestError naming unknown names."""
    table = {**NAME_TO_ISO3, **GEM_ALIASES}
    clean = names.astype("string").str.strip()
    unknown = sorted(set(clean.dropna()) - set(table))
    if unknown or clean.isna().any():
        raise IngestError(f"{what}: unknown or missing country name(s) {unknown or ['<empty>']}; "
                          f"add them to ingest/gem_common.GEM_ALIASES")
    return clean.map(table).astype("string")


def status_of(s: pd.Series, allowed: Sequence[str], *, what: str) -> pd.Series:
    """Lower-case status names with ``_`` and spaces as ``-``; IngestError for a status not in ``allowed``."""
    st = s.astype("string").str.strip().str.lower().str.replace(r"[ _]+", "-", regex=True)
    bad = sorted(set(st.dropna()) - set(allowed))
    if bad or st.isna().any():
        raise IngestError(f"{what}: unknown status value(s) {bad or ['<empty>']} (expected {list(allowed)})")
    return st


def text(s: pd.Series) -> pd.Series:
    """A text column as pandas strings with surrounding blanks removed (missing stays NA)."""
    return s.astype("string").str.strip()


def _file_name(url: str) -> str:
    return urllib.parse.unquote(url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]).replace(" ", "_")


class FacilityAdapter(BaseAdapter):
    """A facility table of one vintage: ``download`` fetches :attr:`urls` (or the URLs given at creation)."""

    urls: tuple[str, ...] = ()
    """The publisher's URLs of the files :meth:`read` takes; empty = no stable public file URL."""

    def __init__(self, urls: Sequence[str] | None = None, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._urls = tuple(urls) if urls is not None else None

    def download(self, start: date, end: date) -> list[Path]:
        """Fetch the files (cached, sha256 sidecar, retries); the period is ignored (one vintage)."""
        from ingest.download import fetch

        urls = self._urls if self._urls is not None else self.urls
        if not urls:
            raise IngestError(f"{self.info.title}: the publisher offers no stable file URL (download form at "
                              f"{self.info.url}); download it there and pass it with --file")
        return [fetch(u, source=self.info.name, settings=self.settings, filename=_file_name(u)) for u in urls]

