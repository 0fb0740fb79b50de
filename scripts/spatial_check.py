"""Sector totals of named states/provinces from the build's own weights and 2024 national totals.

    .venv/bin/python scripts/spatial_check.py [--resolution 0.5] [--ids CN-SH,CN-BJ,...]

Prints one JSON object per region (Mt CO2 in 2024 by sector). A quick look at where the spatial model puts
emissions, not a validation: the held-out validation is issue #16's spatial report.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from api.regions_query import land_share
from carbonmap import contract as cc
from ingest import admin1, boundaries
from nowcast.baseline import regions_of
from pipelines.inputs import load_inputs
from pipelines.national import annual_table
from pipelines.weights import build_weights

DEFAULT_IDS = "CN-SH,CN-BJ,CN-NM,CN-HE,CN-GD,CN-SD,CN-JS,CN-SX,US-TX,US-CA,IN-DL,IN-MH,DE-BY,DE-NW"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=float, default=0.5)
    ap.add_argument("--ids", default=DEFAULT_IDS)
    args = ap.parse_args()
    t0 = time.perf_counter()
    inputs = load_inputs()
    grid = cc.Grid(args.resolution)
    regions = regions_of(inputs.gcb)
    weights = build_weights(inputs, grid, regions)
    annual = annual_table(inputs, [2024], regions)[0]
    field = {s: weights.matrices[s] @ annual[cc.SECTORS.index(s)] for s in cc.SECTORS}
    country = inputs.coverage(grid)
    land = np.zeros(grid.nlat * grid.nlon)
    np.add.at(land, country.cell, country.fraction)
    units = admin1.read_admin1(_admin1_path())
    want = args.ids.split(",")
    sub = units[units["id"].isin(want)].rename(columns={"id": "code"}).reset_index(drop=True)
    cov = boundaries.coverage_fractions(sub, grid, id_col="code")
    for k, code in enumerate(cov.ids):
        m = cov.region == k
        row = {"id": code, "name": str(sub.loc[sub["code"] == code, "name"].iloc[0])}
        cells, frac = cov.cell[m], cov.fraction[m]
        share = land_share(frac, land[cells])  # share of each cell's land inside the region, as the API weighs
        for s in cc.SECTORS:
            row[s] = round(float((field[s][cells] * share).sum()) / 1e9, 2)
        row["total"] = round(float(np.sum([row[s] for s in cc.SECTORS])), 2)
        print(json.dumps(row))
    print(json.dumps({"resolution": args.resolution, "seconds": round(time.perf_counter() - t0, 1)}))


def _admin1_path() -> Path:
    from carbonmap.settings import get_settings

    return get_settings().data_dir / "boundaries" / "ne_10m_admin_1_states_provinces.topo.json.gz"


if __name__ == "__main__":
    main()
