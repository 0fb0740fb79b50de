"""Release files, read side: the ``files/`` directory of a release and its ``files.json`` manifest (issue #19).

Each release holds ``<release>/files/``: per-month daily NetCDF, monthly-mean and annual-total NetCDF + COG, the
national daily table (CSV + Parquet), each listed with size, sha256, media type, kind and period in
``files.json``.  ``pipelines/release_files.py`` writes them; the API lists and serves them through this module,
and only names in the manifest (never a client's path).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from carbonmap.errors import NotFound
from carbonmap.storage.location import Location, location

FILES_DIR = "files"


FILES_MANIFEST = "files.json"


KINDS = ("daily", "monthly-mean", "annual-total", "national-daily")
"""The file kinds (``Settings.release_files_kinds`` picks which a publish writes)."""


NETCDF = "application/x-netcdf"


COG = "image/tiff; application=geotiff; profile=cloud-optimized"


CSV_GZ = "application/gzip"


PARQUET = "application/vnd.apache.parquet"


NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True)
class FileEntry:
    """One release file: name in ``files/``, bytes, sha256, media type, kind, period, writing release, description."""

    name: str
    size: int
    sha256: str
    media_type: str
    kind: str
    period: str
    written_in: str
    description: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def files_dir(release_dir: Path) -> Path:
    return Path(release_dir) / FILES_DIR  # inside the release: pruned, linked and published with it


def files_location(release_dir: Location | Path | str) -> Location:
    """Where a release's files live, local or on object storage (``<release>/files``)."""
    return location(release_dir).child(FILES_DIR)


def read_manifest(release_dir: Location | Path | str) -> dict[str, FileEntry]:
    """name -> entry of the release's ``files.json`` (empty when it has none or it is unreadable)."""
    try:
        text = files_location(release_dir).read_text(FILES_MANIFEST)
        if text is None:
            return {}
        doc = json.loads(text)
        return {e["name"]: FileEntry(**e) for e in doc.get("files", [])}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def valid_name(name: str) -> bool:
    """A bare file name (no separators, no leading dot): the only names a manifest or a client may use."""
    return bool(name) and not name.startswith(".") and set(name) <= NAME_OK


def listed_files(release_dir: Location | Path | str) -> list[FileEntry]:
    """The manifest's entries whose object exists (a local file or an object-store object), in manifest order."""
    where = files_location(release_dir)
    return [e for e in read_manifest(release_dir).values() if where.exists(e.name)]


def file_location(release_dir: Location | Path | str, name: str) -> tuple[Location, FileEntry]:
    """Where the release file ``name`` is (the release's ``files/``) and its manifest entry; NotFound naming what
    exists otherwise.  Only names in the manifest are served, and only from the release's own ``files/``."""
    entries = read_manifest(release_dir)
    if not valid_name(name) or name not in entries:
        listed = ", ".join(sorted(entries)) or "none"
        raise NotFound(f"this release has no file {name!r}; its files are: {listed}")
    where = files_location(release_dir)
    if not where.exists(name):
        raise NotFound(f"the file {name!r} is listed but missing from the store; ask the operator to restore it "
                       "(the next release rewrites it)")
    return where, entries[name]
