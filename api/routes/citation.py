"""How to cite a release: ``GET /datasets/{id}/citation?format=bibtex|ris|cff[&release=]`` (issue #19).

A release is cited as a dataset with its version (the release id), its publication date (when the release
was published), the authors/organisation (carbonmap), its licence and a link pinned to that release; the
input sources it was built from follow as their own references (title, publisher's URL, licence and, where the
source asks for one, its own citation, e.g. Friedlingstein et al. for the Global Carbon Budget).  The inputs are
the cube's ``provenance_inputs``; a source's requested citation is the ``note`` of its ingest adapter
(``ingest.registry``), as listed in data/SOURCES.md.
"""


import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

import yaml
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.deps import DATASET_ID_PATTERN, Dependency, ReleaseQuery, get_registry
from carbonmap import __version__
from carbonmap.http_policy import RELEASE_HEADER
from carbonmap.problems import problem_responses
from carbonmap.registry import Cube, Registry
from carbonmap.serving import resolve_cube
from carbonmap.storage import releases as cube_releases

FORMATS = ("bibtex", "ris", "cff")
MEDIA_TYPES = {"bibtex": "application/x-bibtex; charset=utf-8",
               "ris": "application/x-research-info-systems; charset=utf-8",
               "cff": "application/x-yaml; charset=utf-8"}
EXTENSIONS = {"bibtex": "bib", "ris": "ris", "cff": "cff"}
ORGANISATION = "carbonmap"
SPDX = frozenset({"CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODbL-1.0", "PDDL-1.0", "MIT", "Apache-2.0",
                  "GPL-3.0-only", "GPL-3.0-or-later", "BSD-3-Clause", "CC-BY-3.0", "OGL-UK-3.0"})
"""Licence ids written as CFF ``license`` (an SPDX id); any other licence text goes into the notes."""


@dataclass(frozen=True)
class Source:
    """One input source as cited: title, URL, licence text and the citation its publisher asks for."""

    title: str
    url: str
    licence: str
    cite: str = ""


@dataclass(frozen=True)
class Citation:
    """A release as a citable dataset."""

    dataset: str
    title: str
    version: str
    released: dt.date
    licence: str
    url: str
    abstract: str
    code_version: str
    sources: tuple[Source, ...] = field(default=())

    @property
    def key(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "_", f"carbonmap_{self.dataset}_{self.version}")


@lru_cache(maxsize=1)
def _adapter_notes() -> dict[str, str]:
    """``"title <url>"`` (the provenance ``source``) -> the citation the source's adapter notes."""
    try:
        from ingest.registry import sources
    except ImportError:  # pragma: no cover - the ingest package ships with the server
        return {}
    out = {}
    for info in sources().values():
        out[f"{info.title} <{info.url}>"] = str(getattr(info, "note", "") or "")
    return out


def _source(text: str, licence: str) -> Source:
    m = re.match(r"^(.*?)\s*<([^>]+)>\s*$", text)
    title, url = (m.group(1), m.group(2)) if m else (text, "")
    return Source(title, url, licence, _adapter_notes().get(text, ""))


def citation_of(cube: Cube, released: dt.date, base: str) -> Citation:
    """The citation of the release ``cube`` reads (published on ``released``)."""
    a = cube.attrs
    seen: dict[str, Source] = {}
    for i in a.get("provenance_inputs", []) or []:
        text = str(i.get("source", "")).strip()
        if text and text not in seen:
            seen[text] = _source(text, str(i.get("license", "unknown")))
    version = cube.release or str(a.get("provenance_build_time", ""))[:10] or "unreleased"
    pin = f"?release={cube.release}" if cube.release else ""
    return Citation(dataset=cube.id, title=str(a.get("title", cube.id)), version=version, released=released,
                    licence=str(a.get("license", "")), url=f"{base}/datasets/{cube.id}{pin}",
                    abstract=str(a.get("summary", "")),
                    code_version=str(a.get("provenance_code_version", __version__)),
                    sources=tuple(sorted(seen.values(), key=lambda s: s.title)))


def _spdx(licence: str) -> str | None:
    head = licence.split(" ")[0].strip(",;()") if licence else ""
    return head if head in SPDX else None


def _tex(text: str) -> str:
    out = text.replace("\\", " ").replace("{", "(").replace("}", ")")
    return re.sub(r"([&%$#_])", r"\\\1", out)


def bibtex(c: Citation) -> str:
    """BibTeX: the release as ``@misc`` (version = release id), then one ``@misc`` per input source."""
    notes = (f"Dataset {c.dataset}, release {c.version} (published {c.released.isoformat()}), built with "
             f"carbonmap {c.code_version}. Licence: {c.licence}. Derived from the input sources cited with it.")
    entries = [(
        f"@misc{{{c.key},\n  author = {{{{{ORGANISATION}}}}},\n  title = {{{_tex(c.title)}}},\n"
        f"  year = {{{c.released.year}}},\n  month = {{{c.released.month}}},\n  version = {{{c.version}}},\n"
        f"  publisher = {{{ORGANISATION}}},\n  url = {{{c.url}}},\n  howpublished = {{\\url{{{c.url}}}}},\n"
        f"  note = {{{_tex(notes)}}}\n}}")]
    for k, s in enumerate(c.sources, start=1):
        note = f"Licence: {s.licence}." + (f" Cite: {s.cite}." if s.cite else "")
        fields = [f"  title = {{{_tex(s.title)}}}"]
        if s.url:
            fields += [f"  url = {{{s.url}}}", f"  howpublished = {{\\url{{{s.url}}}}}"]
        fields.append(f"  note = {{{_tex(note)}}}")
        entries.append(f"@misc{{{c.key}_source{k},\n" + ",\n".join(fields) + "\n}")
    return "\n\n".join(entries) + "\n"


def ris(c: Citation) -> str:
    """RIS: one ``TY  - DATA`` record for the release (``ET`` = release id), then one per input source."""
    def rec(lines: list[tuple[str, str]]) -> str:
        return "".join(f"{tag}  - {value}\n" for tag, value in lines if value) + "ER  - \n"

    out = [rec([("TY", "DATA"), ("AU", ORGANISATION), ("TI", c.title), ("PY", str(c.released.year)),
                ("DA", c.released.strftime("%Y/%m/%d")), ("ET", c.version), ("PB", ORGANISATION), ("UR", c.url),
                ("AB", c.abstract), ("N1", (f"Dataset {c.dataset}, release {c.version}, carbonmap "
                                            f"{c.code_version}. Licence: {c.licence}"))])]
    for s in c.sources:
        out.append(rec([("TY", "DATA"), ("TI", s.title), ("UR", s.url),
                        ("N1", f"Licence: {s.licence}." + (f" Cite: {s.cite}." if s.cite else ""))]))
    return "\n".join(out)


def cff_document(c: Citation) -> dict[str, Any]:
    """The Citation File Format 1.2.0 document of the release (a dataset; sources as ``references``)."""
    doc: dict[str, Any] = {
        "cff-version": "1.2.0",
        "message": f"If you use this dataset, cite release {c.version} of {c.dataset} as below, and the input "
                   "sources listed under references.",
        "type": "dataset",
        "title": c.title,
        "version": c.version,
        "date-released": c.released.isoformat(),
        "authors": [{"name": ORGANISATION}],
        "url": c.url,
        "abstract": c.abstract or c.title,
        "keywords": ["CO2", "fossil emissions", "daily", "gridded", "sectors"],
    }
    lic = _spdx(c.licence)
    if lic:
        doc["license"] = lic
    refs = []
    for s in c.sources:
        ref: dict[str, Any] = {"type": "data", "title": s.title,
                               "authors": [{"name": urlparse(s.url).netloc or s.title}],
                               "notes": f"Licence: {s.licence}." + (f" Cite: {s.cite}." if s.cite else "")}
        if s.url:
            ref["url"] = s.url
        if _spdx(s.licence):
            ref["license"] = _spdx(s.licence)
        refs.append(ref)
    if refs:
        doc["references"] = refs
    return doc


def cff(c: Citation) -> str:
    return yaml.safe_dump(cff_document(c), sort_keys=False, allow_unicode=True, width=110)


RENDER = {"bibtex": bibtex, "ris": ris, "cff": cff}

_EXAMPLE_BIB = ("@misc{carbonmap_demo_2024_r0003,\n  author = {{carbonmap}},\n  title = {carbonmap daily fossil CO2, "
                "2024-01-01 to 2026-03-31, 0.25 degree},\n  year = {2026},\n  month = {4},\n  version = {r0003},\n"
                "  publisher = {carbonmap},\n  url = {https://host/datasets/demo-2024?release=r0003},\n  ...\n}\n\n"
                "@misc{carbonmap_demo_2024_r0003_source1,\n  title = {Global Carbon Budget national fossil CO2 "
                "emissions (flat CSV)},\n  url = {https://doi.org/10.5281/zenodo.17417124},\n  ...\n}\n")


@dataclass
class CitationFactory:
    """``/datasets/{id}/citation``."""

    registry_dependency: Dependency[Registry] = get_registry
    router: APIRouter = field(default_factory=lambda: APIRouter(tags=["datasets"]))

    def __post_init__(self) -> None:
        @self.router.get(
            "/datasets/{id}/citation",
            summary="How to cite a release of a dataset: BibTeX, RIS or Citation File Format",
            description="The release (default: the current one) as a dataset with its version (the release id), "
                        "publication date, organisation, licence and a link pinned to it, followed by the input "
                        "sources it was built from, each with its licence and the citation its publisher asks "
                        "for. `format` is one of bibtex, ris, cff.",
            response_class=Response,
            responses={200: {"content": {"application/x-bibtex": {"schema": {"type": "string"},
                                                                   "example": _EXAMPLE_BIB},
                                         "application/x-research-info-systems": {"schema": {"type": "string"},
                                                                                 "example": "TY  - DATA\nAU  - "
                                                                                 "carbonmap\n...\nER  - \n"},
                                         "application/x-yaml": {"schema": {"type": "string"},
                                                                "example": "cff-version: 1.2.0\ntype: dataset\n"
                                                                           "version: r0003\n..."}}},
                       **problem_responses(
                           e404=("release-not-found", ("dataset 'demo-2024' has no release 'r0009'; its releases "
                                                       "are: r0001, r0002, r0003 (GET /datasets/demo-2024/releases)")),
                           e422=("invalid-parameter", ("query parameter 'format' (got 'endnote'): Input should be "
                                                       "'bibtex', 'ris' or 'cff'. Fix the parameter and retry.")))},
        )
        def get_citation(
            request: Request,
            registry: Annotated[Registry, Depends(self.registry_dependency)],
            dataset_id: Annotated[str, Path(alias="id", description="dataset id, as listed by GET /datasets",
                                            pattern=DATASET_ID_PATTERN, openapi_examples={
                                                "demo": {"summary": "the demo dataset", "value": "demo-2024"}})],
            format: Annotated[Literal["bibtex", "ris", "cff"], Query(
                description="bibtex, ris or cff (Citation File Format 1.2.0)", openapi_examples={
                    "bibtex": {"summary": "BibTeX", "value": "bibtex"},
                    "cff": {"summary": "Citation File Format", "value": "cff"}})] = "bibtex",
            release: ReleaseQuery = None,
        ) -> Response:
            cube = resolve_cube(registry, dataset_id, release)
            released = _published(registry, dataset_id, cube)
            c = citation_of(cube, released, str(request.base_url).rstrip("/"))
            headers = {"Content-Disposition": f'inline; filename="{c.key}.{EXTENSIONS[format]}"'}
            if cube.release:
                headers[RELEASE_HEADER] = cube.release
            return Response(RENDER[format](c), media_type=MEDIA_TYPES[format], headers=headers)


def _published(registry: Registry, dataset_id: str, cube: Cube) -> dt.date:
    """When the cube's release was published (its manifest's ``created``), else when it was built."""
    if cube.release:
        for info in cube_releases.list_releases(registry.root(dataset_id)):
            if info.id == cube.release and info.created:
                return dt.datetime.fromisoformat(info.created).date()
    built = str(cube.attrs.get("provenance_build_time", ""))
    try:
        return dt.datetime.fromisoformat(built).date()
    except ValueError:
        return dt.datetime.now(dt.UTC).date()


__all__ = ["FORMATS", "Citation", "CitationFactory", "bibtex", "cff", "cff_document", "citation_of", "ris"]
