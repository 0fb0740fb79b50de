"""CDIAC NDP-058 (v2016) annual fossil-fuel CO2 emissions gridded at 1 x 1 degree (``gridcar.<yyyy>``).

Format (``readme.ndp058_v2016.txt``): one ASCII file per year, 180 x 360 = 64,800 values, one per line,
Fortran ``ES13.6E2`` (13 characters, e.g. `` 1.234560E+00``), written row by row with ``i = 1..180``
latitude bands from north (90-89 N) to south and ``j = 1..360`` longitude cells from 180-179 W
to 179-180 E.  Units: **Tg C per cell per year** (10^6 metric tonnes of carbon).
``SUMMARY.MASS.DAT`` gives, per year, the minimum, maximum and sum of the cell values (Tg C), "as an
additional means to check that the gridcar files have been read correctly".

:func:`read_gridcar` -> ``emissions(lat, lon)`` in **kg CO2 per cell per year** on ``Grid(1.0)``
(Tg C x 1e9 kg/Tg x 44.0095/12.011 kg CO2 per kg C); :func:`read_summary` -> the summary table;
:func:`check_against_summary` compares a year's grid with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from carbonmap.contract import Grid
from ingest.base import BaseAdapter, IngestError, SourceInfo

DIR = "gridded/cdiac-ndp058-gridcar-1deg"
NLAT, NLON = 180, 360
RECORD = 14
"""Bytes per value: 13 characters (ES13.6E2) and a newline."""
KG_PER_TG = 1.0e9
CO2_PER_C = 44.0095 / 12.011
"""kg CO2 per kg C (molar masses of CO2 and C)."""
KG_CO2_PER_TG_C = KG_PER_TG * CO2_PER_C
GRID = Grid(1.0)
YEARS_SHIPPED = (2009, 2010, 2011, 2012, 2013)
URL = "https://data.ess-dive.lbl.gov/view/doi:10.3334/CDIAC/FFE.NDP058.2016"
YEARS_PUBLISHED = (1751, 2013)
SHA256 = {
    "gridcar.2009": "a50c3cd85bfc512bdbbca19246ba471c77303dc119d16c0db3a45e00c20f7b54",
    "gridcar.2010": "75cafefe8766cc03b1b5da32c46be19cfe85a489690b1a70f75e75fcdd698924",
    "gridcar.2011": "724176847a0a6f8dfdb3e517ab87a06dfa288d1490fa28b92beb6e0e6e75691f",
    "gridcar.2012": "f611b0639b80c25ad228c2032e916131aedb8e78159403b27999af8ce957cc41",
    "gridcar.2013": "4c0b2eb0ca414ca524e72e228d038c7743a32c46fd8322d21d4e862744a25479",
    "SUMMARY.MASS.DAT": "a51cc322c574f39a6538d8cc72499dd50457467a1852a3f1366f6d3c4cb68d7b",
}
"""sha256 of the shipped (uncompressed) files; other years get a sidecar on first download."""

INFO = SourceInfo(
    name="cdiac",
    title="CDIAC NDP-058 v2016 annual fossil-fuel CO2 emissions, 1 degree grid (Andres, Boden, Marland)",
    kind="spatial_prior",
    licence="CDIAC/ORNL (US DOE), free use; cite Andres et al. 2016, doi:10.3334/CDIAC/ffe.ndp058.2016",
    url=URL,
    shipped=tuple(f"{DIR}/gridcar.{y}" for y in YEARS_SHIPPED) + (f"{DIR}/SUMMARY.MASS.DAT",),
    note="1751-2013 published; 2009-2013 ship; units Tg C per cell per year, converted to kg CO2",
)

_NAME_RE = re.compile(r"gridcar\.(\d{4})$")
_VALUE_RE = re.compile(rb"^ ?-?\d\.\d{6}E[+-]\d{2}$")


def year_of(path: Path) -> int:
    m = _NAME_RE.search(Path(path).name)
    if not m:
        raise IngestError(f"{Path(path).name!r} is not a CDIAC grid file name (gridcar.<yyyy>)")
    return int(m.group(1))


def read_gridcar_tgc(path: Path) -> np.ndarray:
    """The raw grid, Tg C per cell per year, float64 (180, 360), row 0 = 90-89 N, col 0 = 180-179 W."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"CDIAC file not found: {path}")
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    if len(lines) != NLAT * NLON:
        raise IngestError(f"{path.name}: a gridcar file holds {NLAT} x {NLON} = {NLAT * NLON} values, one per line; "
                          f"found {len(lines)} lines")
    for i in (0, len(lines) // 2, len(lines) - 1):
        if not _VALUE_RE.match(lines[i].rstrip(b"\r")):
            raise IngestError(f"{path.name}: line {i + 1} {lines[i][:20]!r} is not in Fortran ES13.6E2 format")
    try:
        values = np.array(raw.split(), dtype=np.float64)
    except ValueError as e:
        raise IngestError(f"{path.name}: values are not numeric ({e})") from e
    if values.size != NLAT * NLON:
        raise IngestError(f"{path.name}: {values.size} values, expected {NLAT * NLON}")
    if not np.isfinite(values).all() or values.min() < 0:
        raise IngestError(f"{path.name}: all values should be zero or positive (readme); found min {values.min():g}")
    if values.max() > 1000.0:
        raise IngestError(f"{path.name}: a cell emits {values.max():g} Tg C per year; units must be Tg C (the "
                          f"largest 1 degree cell emits < 100)")
    return values.reshape(NLAT, NLON)


def read_gridcar(path: Path) -> xr.DataArray:
    """``emissions(lat, lon)``, kg CO2 per cell per year, on Grid(1.0) (lat descending), with ``year`` attr."""
    path = Path(path)
    year = year_of(path)
    tgc = read_gridcar_tgc(path)
    return xr.DataArray(
        tgc * KG_CO2_PER_TG_C, dims=("lat", "lon"), coords={"lat": GRID.lat, "lon": GRID.lon}, name="emissions",
        attrs={"units": "kg yr-1", "long_name": "fossil-fuel CO2 emissions per grid cell per year",
               "cell_methods": "time: sum (interval: 1 year) area: sum",
               "comment": f"CDIAC NDP-058 v2016 Tg C x {KG_CO2_PER_TG_C:.6g} kg CO2 per Tg C",
               "year": year, "source_file": path.name, **GRID.to_attrs()},
    )


def read_summary(path: Path) -> pd.DataFrame:
    """``SUMMARY.MASS.DAT`` -> ``year, mingrid, maxgrid, gridsum`` (Tg C)."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"CDIAC summary not found: {path}")
    text = path.read_text(encoding="ascii", errors="replace")
    if "Tg C" not in text:
        raise IngestError(f"{path.name}: no 'Tg C' units line; is it CDIAC's SUMMARY.MASS.DAT?")
    rows = [ln.split() for ln in text.splitlines() if re.match(r"^\s*\d{4}\s", ln)]
    if not rows:
        raise IngestError(f"{path.name}: no 'year mingrid maxgrid gridsum' rows")
    try:
        df = pd.DataFrame([[int(r[0]), *map(float, r[1:4])] for r in rows],
                          columns=["year", "mingrid", "maxgrid", "gridsum"])
    except (ValueError, IndexError) as e:
        raise IngestError(f"{path.name}: malformed row ({e})") from e
    if df["year"].duplicated().any():
        raise IngestError(f"{path.name}: duplicate year {df['year'][df['year'].duplicated()].iloc[0]}")
    return df


def check_against_summary(grid: xr.DataArray, summary: pd.DataFrame) -> dict[str, float]:
    """Compare a grid (kg CO2) with the summary row of its year; IngestError if the sums differ > 0.01 Tg C/cell."""
    year = int(grid.attrs["year"])
    row = summary[summary["year"] == year]
    if row.empty:
        raise IngestError(f"SUMMARY.MASS.DAT has no row for {year}")
    tgc = grid.to_numpy() / KG_CO2_PER_TG_C
    got = {"gridsum": float(tgc.sum()), "maxgrid": float(tgc.max()), "mingrid": float(tgc.min())}
    ref = row.iloc[0]
    # the summary prints 2 decimals for the sum and 1 for max/min
    if abs(got["gridsum"] - ref["gridsum"]) > 0.01 or abs(got["maxgrid"] - ref["maxgrid"]) > 0.05:
        raise IngestError(f"gridcar.{year}: sum {got['gridsum']:.2f} / max {got['maxgrid']:.1f} Tg C differ from "
                          f"SUMMARY.MASS.DAT ({ref['gridsum']:.2f} / {ref['maxgrid']:.1f}); misread file")
    return got


class CDIACAdapter(BaseAdapter[xr.Dataset]):
    """gridcar.<yyyy> files (+ optional SUMMARY.MASS.DAT, checked) -> ``emissions(year, lat, lon)`` kg CO2 yr-1."""

    info = INFO

    def download(self, start: date, end: date) -> list[Path]:
        """``gridcar.<yyyy>`` of every year touched by ``start..end`` (1751-2013) + ``SUMMARY.MASS.DAT``, fetched
        uncompressed from ``Settings.cdiac_url`` (see :data:`SHA256` for the checked files), cached."""
        from ingest.download import fetch

        if end < start:
            raise IngestError(f"period end {end} is before its start {start}")
        y0, y1 = max(start.year, YEARS_PUBLISHED[0]), min(end.year, YEARS_PUBLISHED[1])
        if y0 > y1:
            raise IngestError(f"CDIAC NDP-058 v2016 covers {YEARS_PUBLISHED[0]}-{YEARS_PUBLISHED[1]}; "
                              f"{start}..{end} lies outside")
        root = self.settings.cdiac_url.rstrip("/")
        names = [f"gridcar.{y}" for y in range(y0, y1 + 1)] + ["SUMMARY.MASS.DAT"]
        return [fetch(f"{root}/{n}", source=self.info.name,
                      settings=self.settings, filename=n, sha256=SHA256.get(n)) for n in names]

    def read(self, paths: Sequence[Path]) -> xr.Dataset:
        paths = [Path(p) for p in paths]
        summary_paths = [p for p in paths if p.name.upper() == "SUMMARY.MASS.DAT"]
        grids = [p for p in paths if p not in summary_paths]
        if not grids:
            raise IngestError("no CDIAC gridcar.<yyyy> files given")
        years = [year_of(p) for p in grids]
        if len(set(years)) != len(years):
            raise IngestError(f"CDIAC: duplicate year among {sorted(years)}")
        summary = read_summary(summary_paths[0]) if summary_paths else None
        das = []
        for p in sorted(grids, key=year_of):
            da = read_gridcar(p)
            if summary is not None:
                check_against_summary(da, summary)
            das.append(da.expand_dims(year=[da.attrs["year"]]))
        out = xr.concat(das, dim="year").to_dataset()
        out["emissions"].attrs = {k: v for k, v in das[0].attrs.items() if k not in ("year", "source_file")}
        out.attrs.update({"summary_checked": str(summary is not None).lower(), **GRID.to_attrs()})
        return out

    def validate(self, data: xr.Dataset) -> None:
        if "emissions" not in data or data["emissions"].attrs.get("units") != "kg yr-1":
            raise IngestError("CDIAC dataset must hold emissions in kg yr-1")
        if pd.Index(data["year"].values).has_duplicates:
            raise IngestError("CDIAC dataset has duplicate years")
