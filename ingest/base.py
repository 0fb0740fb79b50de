"""The small protocol every ingest adapter follows, and the error it raises.

An adapter turns one published source into one canonical dataset:

- ``download(start, end) -> list[Path]``: fetch the real files for a period into the local cache
  (``Settings.cache_dir / "downloads" / <source>``), sha256-checked, with retries; raises
  :class:`IngestError` with a human sentence when offline.
- ``read(paths)``: parse local files into a pandas DataFrame or an xarray Dataset with stable names.
- ``validate(data)``: check columns, units, ranges, dates and CRS; raise :class:`IngestError`.
- ``write(data, out_path)``: write the canonical Parquet (tables) or Zarr (grids) atomically
  (temp path, then rename) with provenance attributes (source, URL, licence, file sha256).

Adapters are registered in :mod:`ingest.registry` so ``carbonmap ingest --list`` can print them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar, runtime_checkable

import pandas as pd
import xarray as xr

from carbonmap.contract import InputFile
from carbonmap.errors import InvalidInput

if TYPE_CHECKING:
    from carbonmap.settings import Settings


class IngestError(InvalidInput):
    """An input file (or download) is missing, malformed or inconsistent; the message says what and where."""


@dataclass(frozen=True)
class SourceInfo:
    """What a source is, where it comes from and under which licence."""

    name: str
    """Short id used on the command line, e.g. ``gcb``."""
    title: str
    kind: str
    """One of ``statistical``, ``activity``, ``satellite``, ``point_sources``, ``spatial_prior``, ``boundaries``."""
    licence: str
    url: str
    """Landing page or download URL of the publisher."""
    shipped: tuple[str, ...] = ()
    """Paths (relative to ``Settings.data_dir``) of the real files that ship in ``data/``."""
    real: bool = True
    """False where the shipped data is a simplified proxy (e.g. an 8-bit picture of night lights)."""
    note: str = ""

    def input_file(self, path: Path, *, role: str, root: Path | None = None, real: bool | None = None) -> InputFile:
        """Provenance record (path, sha256, source, licence) of one file of this source."""
        return InputFile.of(path, source=f"{self.title} <{self.url}>", license=self.licence, role=role,
                            real=self.real if real is None else real, root=root)


Data: TypeAlias = pd.DataFrame | xr.Dataset | xr.DataArray
DataT = TypeVar("DataT", bound=Data)
"""What one adapter's ``read`` returns and its ``validate``/``write`` take (``BaseAdapter[xr.Dataset]``)."""


@runtime_checkable
class Adapter(Protocol):
    """The ingest protocol: download, read, validate, write."""

    info: SourceInfo

    def download(self, start: date, end: date) -> list[Path]: ...

    def read(self, paths: Sequence[Path]) -> Data: ...

    def validate(self, data: Data) -> None: ...

    def write(self, data: Data, out_path: Path, inputs: Sequence[Path] = ()) -> Path: ...


class BaseAdapter(ABC, Generic[DataT]):
    """Shared behaviour: ``write`` as canonical Parquet/Zarr with provenance; ``download`` refuses by default.

    Parametrised by the type of the adapter's data: ``class X(BaseAdapter[xr.Dataset])`` types ``read``,
    ``validate`` and ``write`` with ``xr.Dataset``; a bare ``BaseAdapter`` takes any :data:`Data`.

    ``settings`` (data and cache dirs, publisher URLs, credentials) are given when the adapter is made; made
    without them (the CLI, tests), it reads the process settings once, there (the edge).  Its methods use
    ``self.settings`` and hand them to the module-level helpers they call; subclasses with their own
    ``__init__`` take ``settings`` too and pass it to ``super().__init__``."""

    info: SourceInfo
    settings: Settings

    def __init__(self, settings: Settings | None = None) -> None:
        from carbonmap.settings import get_settings

        self.settings = settings or get_settings()

    def download(self, start: date, end: date) -> list[Path]:
        raise IngestError(f"source {self.info.name!r} has no automatic download; get it from {self.info.url} "
                          f"and pass it with --file")

    @abstractmethod
    def read(self, paths: Sequence[Path]) -> DataT: ...

    def validate(self, data: DataT) -> None:  # readers validate as they parse; override for extra checks
        return None

    def provenance(self, inputs: Sequence[Path]) -> dict[str, Any]:
        """Attributes that travel with the canonical output."""
        root = self.settings.data_dir
        return {
            "source": self.info.title,
            "source_name": self.info.name,
            "source_url": self.info.url,
            "license": self.info.licence,
            "real": self.info.real,
            "inputs": [
                {"path": f.path, "sha256": f.sha256, "role": f.role}
                for f in (self.info.input_file(Path(p), role="input", root=root) for p in inputs)
            ],
        }

    def write(self, data: DataT, out_path: Path, inputs: Sequence[Path] = ()) -> Path:
        """Validate, then write ``data`` to ``out_path`` (``.parquet`` or ``.zarr``) atomically."""
        from ingest.canonical import write_parquet_atomic, write_zarr_atomic

        self.validate(data)
        attrs = self.provenance(inputs)
        if isinstance(data, pd.DataFrame):
            return write_parquet_atomic(data, out_path, attrs)
        ds = data.to_dataset(name=data.name or self.info.name) if isinstance(data, xr.DataArray) else data
        return write_zarr_atomic(ds, out_path, attrs)


_CSV_ERRORS = (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, EOFError, OSError)


def read_csv_checked(path: Path | str, what: str, **read_csv: Any) -> pd.DataFrame:
    """``pandas.read_csv`` of a source file (``.gz`` too) with IngestErrors that name the file: missing, or not
    a readable CSV (truncated, wrong encoding, empty). ``read_csv``: keyword arguments for pandas."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{what} file not found: {path}")
    try:
        return pd.read_csv(path, **read_csv)
    except _CSV_ERRORS as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e


def need_columns(raw: pd.DataFrame, cols: Sequence[str], name: str) -> None:
    """IngestError naming the ``cols`` that ``raw`` lacks (and the columns it has)."""
    missing = [c for c in cols if c not in raw.columns]
    if missing:
        raise IngestError(f"{name} lacks the column(s) {missing}; found {list(raw.columns)}")
