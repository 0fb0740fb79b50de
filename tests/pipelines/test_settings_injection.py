"""Settings are injected from the entry points down (issue #18.4): a request (or an adapter) reads the process
settings once, when it is made, and every step below receives them; no pipeline or ingest function reads the
process-global ``get_settings()`` itself."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from carbonmap import contract as cc
from carbonmap.settings import Settings, get_settings
from carbonmap.storage.release_files import files_dir
from carbonmap.storage.release_files import read_manifest as read_files_manifest
from pipelines import store
from pipelines.build import BuildRequest, build
from pipelines.inputs import load_inputs
from pipelines.update import UpdateRequest, update

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("pipelines", "ingest")

FALLBACKS = {
    ("pipelines/inputs.py", "load_inputs"),
    ("ingest/boundaries.py", "cached_country_coverage"),
    ("ingest/base.py", "BaseAdapter.__init__"),
}
"""The only functions that may resolve a missing ``settings`` argument, with ``settings = settings or
get_settings()`` (or ``self.settings = ...``): public entry points that code outside the pipeline (api/, scripts,
tests) calls without settings, and the adapters' constructor (the edge: an adapter is made there)."""
DEFAULT_FACTORIES = {("pipelines/build.py", "BuildRequest"), ("pipelines/update.py", "UpdateRequest")}
"""The request dataclasses read the process settings in ``field(default_factory=get_settings)``, at construction."""


def _is_fallback(node: ast.AST) -> bool:
    """``settings = settings or get_settings()`` / ``self.settings = settings or get_settings()``."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
        return False
    target, value = node.targets[0], node.value
    named = (isinstance(target, ast.Name) and target.id == "settings") or (
        isinstance(target, ast.Attribute) and target.attr == "settings")
    return (named and isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or) and len(value.values) == 2
            and isinstance(value.values[0], ast.Name) and value.values[0].id == "settings"
            and isinstance(value.values[1], ast.Call) and isinstance(value.values[1].func, ast.Name)
            and value.values[1].func.id == "get_settings" and not value.values[1].args)


def settings_reads(source: str, rel: str) -> list[str]:
    """Every place in ``source`` (module ``rel``) that reads the process settings other than the allowed
    construction defaults: a reference to ``get_settings`` or a call of ``Settings(...)``."""
    tree = ast.parse(source)
    allowed: set[int] = set()  # ids of get_settings nodes that are one of the allowed forms
    bad: list[str] = []

    def visit(node: ast.AST, scope: tuple[str, ...]) -> None:
        name = ".".join(scope)
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            inner = (*scope, node.name)
            if (rel, ".".join(inner)) in FALLBACKS and isinstance(node, ast.FunctionDef):
                body = [s for s in node.body if not isinstance(s, ast.ImportFrom | ast.Import)
                        and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
                first = body[0] if body else None
                if isinstance(first, ast.Assign) and _is_fallback(first):  # the function's first statement
                    call = first.value.values[1]  # type: ignore[attr-defined]
                    allowed.add(id(call.func))
            for child in ast.iter_child_nodes(node):
                visit(child, inner)
            return
        if isinstance(node, ast.keyword) and node.arg == "default_factory" and (rel, name) in DEFAULT_FACTORIES \
                and isinstance(node.value, ast.Name) and node.value.id == "get_settings":
            allowed.add(id(node.value))
        if isinstance(node, ast.Name) and node.id == "get_settings" and id(node) not in allowed:
            bad.append(f"{rel}:{node.lineno} in {name or '<module>'}: get_settings")
        if isinstance(node, ast.Attribute) and node.attr == "get_settings":
            bad.append(f"{rel}:{node.lineno} in {name or '<module>'}: .get_settings")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Settings":
            bad.append(f"{rel}:{node.lineno} in {name or '<module>'}: Settings()")
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    for top in tree.body:
        visit(top, ())
    return bad


def test_no_pipeline_or_ingest_function_reads_the_process_settings() -> None:
    found: list[str] = []
    for package in SCANNED:
        for path in sorted((REPO / package).glob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            found += settings_reads(path.read_text(encoding="utf-8"), rel)
    assert not found, "settings must be passed down from the request or adapter, not read here:\n" + "\n".join(found)


@pytest.mark.parametrize("source", [
    "from carbonmap.settings import get_settings\n\ndef f():\n    return get_settings().data_dir\n",
    "def load_inputs(settings=None):\n    x = 1\n    settings = settings or get_settings()\n",  # not at the top
    "def g(settings=None):\n    settings = settings or get_settings()\n",  # not a listed public entry point
    "import carbonmap.settings as s\n\ndef f():\n    return s.get_settings()\n",
    "from carbonmap.settings import Settings\n\ndef f():\n    return Settings().cache_dir\n",
    "from dataclasses import field\n\nclass Other:\n    settings = field(default_factory=get_settings)\n",
])
def test_the_check_catches_a_global_read(source: str) -> None:
    assert settings_reads(source, "pipelines/inputs.py")


def test_the_check_allows_the_construction_defaults() -> None:
    ok = ("from carbonmap.settings import get_settings\n\n"
          "def load_inputs(grid=None, *, settings=None):\n    \"\"\"Doc.\"\"\"\n"
          "    from x import y\n\n    settings = settings or get_settings()\n    return settings\n")
    assert settings_reads(ok, "pipelines/inputs.py") == []
    req = "class BuildRequest:\n    settings: int = field(default_factory=get_settings, compare=False)\n"
    assert settings_reads(req, "pipelines/build.py") == []


def test_requests_take_the_process_settings_when_made_and_never_compare_them() -> None:
    start, end = dt.date(2024, 3, 1), dt.date(2024, 3, 2)
    bare = BuildRequest(start, end, 10.0, Path("x.zarr"), "x")
    assert bare.settings is get_settings()
    other = get_settings().model_copy(update={"release_files_kinds": []})
    injected = BuildRequest(start, end, 10.0, Path("x.zarr"), "x", settings=other)
    assert injected.settings is other and injected == bare and "settings" not in repr(injected)
    assert UpdateRequest(Path("x.zarr")).settings is get_settings()
    assert UpdateRequest(Path("x.zarr"), settings=other).settings is other


@pytest.mark.e2e
def test_a_build_and_an_update_use_the_injected_settings_not_the_process_ones(tmp_path: Path) -> None:
    """The process settings write release files and cache coverage under their cache dir; the injected ones
    write no release files and cache under a fresh directory: the cube follows the injected settings."""
    process = get_settings()
    assert process.release_files_kinds, "the process settings must ask for release files for this test to mean much"
    cache = tmp_path / "injected-cache"
    injected: Settings = process.model_copy(update={"release_files_kinds": [], "cache_dir": cache,
                                                   "dask_processes": False})
    assert process.cache_dir != cache
    inputs = load_inputs(cc.Grid(10.0), settings=injected)
    path = tmp_path / "inj.zarr"
    build(BuildRequest(dt.date(2024, 3, 1), dt.date(2024, 3, 2), 10.0, path, "inj-10deg", layouts=False,
                       settings=injected), inputs=inputs)
    r1 = store.releases_dir(path) / "r0001"
    assert store.current_release(path) == "r0001"
    assert read_files_manifest(r1) == {} and not files_dir(r1).exists()
    assert "release_files.write_release_files" not in store.read_manifest(r1).get("layouts", [])
    # the build's country and urban coverage went to the injected cache dir
    assert list((cache / "coverage").glob("countries_10deg_*.parquet"))
    assert list((cache / "coverage").glob("urban_10deg_*.parquet"))

    result = update(UpdateRequest(path, dt.date(2024, 3, 3), settings=injected), inputs=inputs)
    assert result.release == "r0002"
    r2 = store.releases_dir(path) / "r0002"
    assert read_files_manifest(r2) == {} and not files_dir(r2).exists()
    assert get_settings() is process and get_settings().release_files_kinds  # the process settings are untouched


def test_every_adapter_takes_injected_settings_and_uses_them(tmp_path: Path) -> None:
    """Each registered adapter (and its own ``__init__``, where it has one) keeps the settings it is given; made
    bare, it takes the process settings; ``provenance`` names inputs relative to the injected data dir."""
    from ingest.registry import _ADAPTERS, adapter

    custom = get_settings().model_copy(update={"data_dir": tmp_path, "cache_dir": tmp_path / "cache"})
    for name in _ADAPTERS:
        assert type(adapter(name))(settings=custom).settings is custom, name
        assert adapter(name).settings is get_settings(), name
    f = tmp_path / "sub" / "x.csv"
    f.parent.mkdir()
    f.write_text("a\n1\n")
    assert type(adapter("gcb"))(settings=custom).provenance([f])["inputs"][0]["path"] == "sub/x.csv"
    assert adapter("gcb").provenance([f])["inputs"][0]["path"] == str(f)  # the process data dir is elsewhere
