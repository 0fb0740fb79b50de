"""Describe a served cube for clients: time range, sectors, units, grid and provenance.

Everything is read from the cube's own attributes (written by the build from the contract);
nothing here is hard-coded about a particular dataset.
"""

from __future__ import annotations

from typing import Any

from api import models
from carbonmap import contract as cc
from carbonmap.registry import Cube

STATIC_HONESTY = (
    "carbonmap's national annual totals come from real inventories (Global Carbon Budget); measured activity "
    "(power generation by fuel, industrial output, fuel sales, flights) shapes them over months and days and "
    "carries them past the inventory where it exists, and every national value says which it rests on "
    "('evidence': daily-activity, monthly-statistics, annual-inventory or model). Where emissions fall inside "
    "a country is modelled with proxies, some of them simplified. Each dataset lists "
    "every input with its licence, its sha256 and whether it is real data or a simplified proxy "
    "(GET /datasets/{id}, 'provenance')."
)


def _inputs(cube: Cube) -> list[dict[str, Any]]:
    return list(cube.attrs.get("provenance_inputs", []) or [])


def time_range(cube: Cube) -> models.TimeRange:
    return models.TimeRange(start=cube.start, end=cube.end, days=len(cube.times))


def links(cube: Cube) -> dict[str, str]:
    i = cube.id
    return {
        "self": f"/datasets/{i}",
        "tilejson": f"/tiles/{i}/WebMercatorQuad/tilejson.json",
        "tiles": f"/tiles/{i}/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png?date={cube.start.isoformat()}&sector=total",
        "legend": f"/tiles/{i}/legend",
        "world_emissions": f"/regions/WLD/emissions?dataset={i}&freq=month",
        "map": f"/#dataset={i}",
    }


def summary(cube: Cube) -> models.DatasetSummary:
    return models.DatasetSummary(id=cube.id, title=str(cube.attrs.get("title", cube.id)), time=time_range(cube),
                                 resolution_deg=cube.grid.resolution, links=links(cube))


def _input(entry: dict[str, Any]) -> models.InputInfo:
    text = {k: str(entry.get(k, "unknown")) for k in ("path", "sha256", "source", "license", "role")}
    return models.InputInfo(**text, real=bool(entry.get("real", False)))


def provenance(cube: Cube) -> models.ProvenanceInfo:
    a = cube.attrs
    return models.ProvenanceInfo(
        inputs=[_input(i) for i in _inputs(cube)],
        code_version=str(a.get("provenance_code_version", "unknown")),
        build_time=str(a.get("provenance_build_time", "unknown")),
        methods={str(k): str(v) for k, v in (a.get("provenance_methods") or {}).items()},
        proxies=[str(p) for p in (a.get("provenance_proxies") or [])],
    )


def citation(cube: Cube) -> str:
    """A citation of the dataset followed by each input's source and licence."""
    a = cube.attrs
    head = (f"carbonmap dataset '{cube.id}': {a.get('title', cube.id)}, {cube.start.isoformat()} to "
            f"{cube.end.isoformat()}, built {a.get('provenance_build_time', 'unknown')} with carbonmap "
            f"{a.get('provenance_code_version', 'unknown')}.")
    sources = sorted({f"{i.get('source')} ({i.get('license')})" for i in _inputs(cube)})
    if sources:
        return head + " Derived from: " + "; ".join(sources) + "."
    return head


def detail(cube: Cube) -> models.DatasetDetail:
    a = cube.attrs
    g = cube.grid
    return models.DatasetDetail(
        id=cube.id,
        title=str(a.get("title", cube.id)),
        summary=str(a.get("summary", "")),
        time=time_range(cube),
        sectors=[models.Sector(id=s, long_name=cc.SECTOR_LONG_NAMES.get(s, s)) for s in cube.sectors],
        countries=list(cube.countries),
        units={
            "emissions": f"{cc.EMISSIONS_UNITS} (kg CO2 per grid cell per day)",
            "uncertainty": f"{cc.UNCERTAINTY_UNITS} (relative 1-sigma)",
            "national_emissions": f"{cc.NATIONAL_UNITS} (kg CO2 per country per day)",
            "region_queries": "t CO2 per period",
        },
        grid=models.GridInfo(resolution_deg=g.resolution, bounds=g.bounds, shape=g.shape),
        provenance=provenance(cube),
        license=str(a.get("license", "unknown")),
        citation=citation(cube),
        references=str(a.get("references", "")),
        contract_version=str(a.get("carbonmap_contract_version", "unknown")),
        links=links(cube),
        evidence_levels=list(cc.EVIDENCE_LEVELS) if cc.EVIDENCE_VAR in cube.ds else [],
        data_edge={str(r): {str(k): str(v) for k, v in e.items()}
                   for r, e in (a.get("carbonmap_data_edge") or {}).items()},
    )


def honesty_statement(cube: Cube) -> str:
    """One paragraph for the OpenAPI description: which inputs are real, which parts are proxies."""
    real = sorted({str(i.get("source")) for i in _inputs(cube) if i.get("real")})
    simplified = sorted({str(i.get("source")) for i in _inputs(cube) if not i.get("real")})
    proxies = [str(p) for p in (cube.attrs.get("provenance_proxies") or [])]
    parts = [f"**{cube.id}** ({cube.start.isoformat()} to {cube.end.isoformat()}, {cube.grid.resolution} degree)."]
    parts.append("Real inputs: " + ("; ".join(real) if real else "none listed") + ".")
    if simplified:
        parts.append("Simplified or synthetic inputs: " + "; ".join(simplified) + ".")
    if proxies:
        parts.append("Simplified proxies: " + " ".join(p.rstrip(".") + "." for p in proxies))
    return " ".join(parts)
