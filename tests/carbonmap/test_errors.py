"""carbonmap.errors: one error tree and one status table (issue #18)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

from carbonmap import errors

PACKAGES = ("carbonmap", "ingest", "nowcast", "pipelines", "tiles", "api")
OUTSIDE_THE_TREE = {"ingest.gem_common.DroppedRowsWarning",  # a warning, not an error
                    "api.limits._TooLarge"}  # control flow inside the body-size middleware, never escapes it


def _modules() -> list[str]:
    out = []
    for name in PACKAGES:
        pkg = importlib.import_module(name)
        out.append(name)
        out += [m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{name}.") if not m.name.endswith("__main__")]
    return out


def test_every_exception_class_carbonmap_defines_is_in_the_tree() -> None:
    strays = []
    for modname in _modules():
        module = importlib.import_module(modname)
        for obj in vars(module).values():
            ours = inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == modname
            if ours and not issubclass(obj, errors.CarbonmapError) and f"{modname}.{obj.__name__}" not in OUTSIDE_THE_TREE:
                strays.append(f"{modname}.{obj.__name__}")
    assert not strays, f"exception classes outside carbonmap.errors' tree: {strays}"


@pytest.mark.parametrize(("exc", "expected"), [
    (errors.InvalidInput("x"), (422, "invalid-parameter")),
    (errors.TooLarge("x"), (422, "query-too-large")),
    (errors.NotFound("x"), (404, "not-found")),
    (errors.StorageError("x"), (500, "storage-error")),
    (ValueError("x"), (500, "internal-error")),
    (LookupError("x"), (500, "internal-error")),
    (KeyError("x"), (500, "internal-error")),
])
def test_status_table(exc: BaseException, expected: tuple[int, str]) -> None:
    assert errors.status_of(exc) == expected


def test_subclasses_keep_their_branch_and_name_their_kind() -> None:
    from carbonmap.contract import ContractError
    from carbonmap.registry import DateOutOfRange
    from pipelines.store import StoreError

    assert errors.status_of(ContractError("x")) == (422, "invalid-parameter")
    assert errors.status_of(DateOutOfRange("x")) == (404, "date-out-of-range")
    assert errors.status_of(StoreError("x")) == (500, "store-error")
    # still the builtin families, so callers that catch ValueError/LookupError keep working
    assert issubclass(ContractError, ValueError) and issubclass(DateOutOfRange, LookupError)
    with pytest.raises(ValueError):
        np.zeros(3).reshape(2, 2)  # what a bare ValueError looks like: a bug, 500 by the table above
