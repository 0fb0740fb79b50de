"""carbonmap's one error tree, and the one table from an error to an HTTP status.

Every error carbonmap raises on purpose derives from :class:`CarbonmapError` through one of four branches,
and the class says what the caller did wrong (or that nobody did):

- :class:`InvalidInput` (also a ``ValueError``): a request parameter, a GeoJSON body, a date, a file or a
  setting that does not follow the contract -> HTTP 422, a CLI error that says what to change;
- :class:`TooLarge` (an ``InvalidInput``): more than the server's guardrails allow -> 422 ``query-too-large``;
- :class:`NotFound` (also a ``LookupError``): an unknown dataset, region, release, file or a date outside a
  cube -> 404;
- :class:`StorageError` (also a ``RuntimeError``): a store, layout or shard that is missing, unfinished or
  corrupt on the server's side -> 500 (the client cannot fix it; the message names the store).

Anything else that escapes (a ``ValueError`` from numpy, a ``KeyError``, a zarr bug) is a bug in carbonmap: 500
``internal-error``, logged with its traceback, never blamed on the client.  :func:`status_of` is the table;
``carbonmap.problems`` turns it into RFC 9457 responses for both the API and the tile app.
"""

from __future__ import annotations

import re
from typing import ClassVar


class CarbonmapError(Exception):
    """Root of the errors carbonmap raises on purpose.  ``http_status``: the HTTP status it answers with;
    ``kind``: the problem type slug (default: the class name in kebab case)."""

    http_status: ClassVar[int] = 500
    kind: ClassVar[str] = ""


class InvalidInput(CarbonmapError, ValueError):
    """Input that does not follow the contract: the message says what to change.  Every one answers with the
    problem type ``invalid-parameter``, as request validation errors do (clients match one type for 422)."""

    http_status = 422
    kind = "invalid-parameter"


class TooLarge(InvalidInput):
    """A request asks for more than the server's guardrails allow (period, cells x days, rows)."""

    kind = "query-too-large"


class NotFound(CarbonmapError, LookupError):
    """Something named by the caller does not exist (dataset, region, release, file, date in a cube)."""

    http_status = 404


class StorageError(CarbonmapError, RuntimeError):
    """Stored data is missing, unfinished or corrupt on the server's side."""


def slug(name: str) -> str:
    """``DateOutOfRange`` -> ``date-out-of-range``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def status_of(exc: BaseException) -> tuple[int, str]:
    """(HTTP status, problem kind) of an exception: its class's for a :class:`CarbonmapError`, else 500
    ``internal-error`` (an exception carbonmap did not raise on purpose is a bug, not the client's fault)."""
    if isinstance(exc, CarbonmapError):
        return type(exc).http_status, type(exc).kind or slug(type(exc).__name__)
    return 500, "internal-error"
