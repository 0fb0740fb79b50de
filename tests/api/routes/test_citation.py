"""Citable releases (issue #19): the repository's CITATION.cff, and GET /datasets/{id}/citation?format=bibtex|ris|cff
over real HTTP: version = release id, date = the release's publication, organisation, licence, and the input
sources' own citations (from the cube's provenance inputs and their adapters' notes)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from carbonmap import contract as cc
from ingest import edgar, gcb
from pipelines import releases, store
from tests.api.routes.live_server import live_server
from tests.pipelines.test_releases import _revise_day

REPO = Path(__file__).resolve().parents[3]
DATASET = "cite-test"
GCB_FILE = REPO / "data" / "statistical" / "GCB2025v15_MtCO2_flat.csv"
EDGAR_FILE = REPO / "data" / "statistical" / "edgar-v5.0-ft2018-co2-by-sector.csv"

# Citation File Format 1.2.0, the parts these documents use (checked with cffconvert 2.0 `--validate` too)
CFF_KEYS = {"cff-version", "message", "type", "title", "version", "date-released", "authors", "license", "url",
            "abstract", "keywords", "references", "doi", "repository-code", "identifiers"}
REFERENCE_TYPES = {"data", "database", "software", "article", "report", "generic", "website"}
CFF_LICENCES = {"Apache-2.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODbL-1.0", "MIT"}


def check_cff(doc: dict[str, Any]) -> None:
    """Raise AssertionError unless ``doc`` has the shape of a valid CFF 1.2.0 document."""
    assert doc["cff-version"] == "1.2.0" and isinstance(doc["message"], str) and doc["message"]
    assert set(doc) <= CFF_KEYS, set(doc) - CFF_KEYS
    assert doc.get("type", "software") in ("software", "dataset")
    assert isinstance(doc["title"], str) and doc["title"]
    assert doc["authors"] and all(isinstance(a, dict) and ("name" in a or "family-names" in a) for a in doc["authors"])
    if "date-released" in doc:
        assert isinstance(doc["date-released"], str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc["date-released"])
    if "license" in doc:
        assert doc["license"] in CFF_LICENCES
    for ref in doc.get("references", []):
        assert ref["type"] in REFERENCE_TYPES and ref["title"] and ref["authors"]
        assert set(ref) <= {"type", "title", "authors", "url", "doi", "license", "notes"}, set(ref)
        if "license" in ref:
            assert ref["license"] in CFF_LICENCES


def test_repository_citation_cff_is_valid() -> None:
    doc = yaml.safe_load((REPO / "CITATION.cff").read_text())
    check_cff(doc)
    assert doc["type"] == "software" and doc["license"] == "Apache-2.0"
    assert any("Global Carbon Budget" in r["title"] for r in doc["references"])


@pytest.mark.parametrize("broken", [{"cff-version": "1.1.0"}, {"authors": []}, {"date-released": "5 Dec 2026"},
                                    {"license": "EDGAR terms"}, {"references": [{"type": "dataset", "title": "x",
                                                                                 "authors": [{"name": "y"}]}]}])
def test_the_cff_check_catches_broken_documents(broken: dict[str, Any]) -> None:
    doc = {**yaml.safe_load((REPO / "CITATION.cff").read_text()), **broken}
    with pytest.raises((AssertionError, KeyError)):
        check_cff(doc)


def write_cited_cube(path: Path) -> Path:
    """A tiny sealed cube whose provenance names two real shipped inputs (GCB and EDGAR)."""
    grid = cc.Grid(10.0)
    times = pd.date_range("2024-01-01", periods=4, freq="D")
    files = (gcb.INFO.input_file(GCB_FILE, role="national totals", root=REPO / "data"),
             edgar.INFO.input_file(EDGAR_FILE, role="sector shares", root=REPO / "data"))
    prov = cc.Provenance(inputs=files, code_version="test", build_time=dt.datetime.now(dt.UTC).isoformat(),
                         methods={}, proxies=())
    attrs = cc.global_attrs(dataset_id=DATASET, title="cited test cube", grid=grid, start="2024-01-01",
                            end="2024-01-04", provenance=prov, summary="test cube with real provenance")
    tmp = store.building_path(path)
    store.create(tmp, grid, times, ["AAA"], attrs)
    field = np.ones((len(cc.SECTORS), grid.nlat, grid.nlon))
    for t in range(len(times)):
        store.write_day(tmp, t, field, field * 0.1)
    store.write_national(tmp, np.full((len(times), len(cc.SECTORS), 1), float(grid.nlat * grid.nlon)),
                         np.full((len(times), len(cc.SECTORS), 1), 0.1))
    store.seal(tmp, path)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("cite")
    path = write_cited_cube(tmp / f"{DATASET}.zarr")
    _revise_day(path, 1, 1.1)
    with live_server([path], tmp / "server.log") as base:
        yield base, path


def _get(base: str, **params: str) -> httpx.Response:
    return httpx.get(f"{base}/datasets/{DATASET}/citation", params=params)


def test_cff_of_a_release_is_valid_and_cites_its_sources(server: tuple[str, Path]) -> None:
    base, path = server
    r = _get(base, format="cff", release="r0001")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-yaml")
    assert r.headers["x-carbonmap-release"] == "r0001"
    doc = yaml.safe_load(r.text)
    check_cff(doc)
    created = next(i.created for i in releases.list_releases(path) if i.id == "r0001")
    assert doc["type"] == "dataset" and doc["version"] == "r0001" and doc["date-released"] == created[:10]
    assert doc["license"] == "CC-BY-4.0" and doc["authors"] == [{"name": "carbonmap"}]
    assert doc["url"] == f"{base}/datasets/{DATASET}?release=r0001"
    refs = {ref["title"]: ref for ref in doc["references"]}
    assert refs[gcb.INFO.title]["url"] == gcb.INFO.url and refs[gcb.INFO.title]["license"] == "CC-BY-4.0"
    assert "Friedlingstein" in refs[gcb.INFO.title]["notes"]  # the source's own citation
    assert "license" not in refs[edgar.INFO.title] and "EDGAR terms of use" in refs[edgar.INFO.title]["notes"]


def test_bibtex_and_ris_default_to_the_current_release(server: tuple[str, Path]) -> None:
    base, _ = server
    bib = _get(base)  # bibtex is the default format
    assert bib.status_code == 200 and bib.headers["content-type"].startswith("application/x-bibtex")
    head = bib.text.split("\n\n")[0]
    assert head.startswith("@misc{carbonmap_cite_test_r0002,") and "version = {r0002}" in head
    assert "author = {{carbonmap}}" in head and f"year = {{{dt.datetime.now(dt.UTC).year}}}" in head
    assert bib.text.count("@misc{") == 3 and "Friedlingstein" in bib.text
    assert bib.text.count("{") == bib.text.count("}")  # balanced braces: parseable
    ris = _get(base, format="ris", release="r0001")
    records = [r for r in ris.text.split("ER  - \n") if r.strip()]
    assert len(records) == 3 and all(r.strip().startswith("TY  - DATA") for r in records)
    assert "ET  - r0001" in records[0] and "AU  - carbonmap" in records[0]
    assert "UR  - https://doi.org/10.5281/zenodo.17417124" in ris.text


def test_bad_format_is_422_naming_the_formats_and_unknown_release_404(server: tuple[str, Path]) -> None:
    base, _ = server
    r = _get(base, format="endnote")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert all(f in r.json()["detail"] for f in ("bibtex", "ris", "cff"))
    r = _get(base, release="r0009")
    assert r.status_code == 404 and "r0001, r0002" in r.json()["detail"]
    assert httpx.get(f"{base}/datasets/nope/citation").status_code == 404


def test_openapi_documents_the_citation_endpoint(server: tuple[str, Path]) -> None:
    base, _ = server
    op = httpx.get(f"{base}/openapi.json").json()["paths"]["/datasets/{id}/citation"]["get"]
    assert "example" in op["responses"]["200"]["content"]["application/x-bibtex"]
    assert "application/problem+json" in op["responses"]["422"]["content"]
    fmt = next(p for p in op["parameters"] if p["name"] == "format")
    assert fmt["schema"]["enum"] == ["bibtex", "ris", "cff"] and fmt.get("examples")
