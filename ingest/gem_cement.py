"""GEM Global Cement and Concrete Tracker (GCCT, June 2025): cement plants with cement and clinker capacity.

The shipped ``gem_gcct_cement_plants_2025-06.csv.gz`` has the columns of the tracker's "Plant Data"
sheet (3,517 plants): ``GEM Plant ID``, ``GEM Asset name (English)``, ``Coordinates`` (``"lat, lon"``),
``Subnational unit``, ``Country/Area``, ``Cement Capacity (millions metric tonnes per annum)``,
``Clinker Capacity (millions metric tonnes per annum)``, ``Operating status``, ``Start date``,
``Owner name (English)``, ``Plant type`` (integrated, grinding, clinker only, unknown), ...
Capacities are Mt per year; the text values ``>0`` (capacity exists, size unknown), ``unknown`` and
``n/a`` (grinding plants have no clinker kiln) become NaN, their counts in ``attrs``.

Clinker is what emits (calcination about 0.52 t CO2 per t clinker plus kiln fuel): use
``clinker_capacity_mtpa`` where known and ``plant_type`` to tell grinding-only plants (no kiln).

:func:`read_gem_cement_plants` -> :data:`PLANT_COLUMNS`.  GEM's full download sits behind a request form,
so :class:`GEMCementAdapter` has no default URL (give one, e.g. a mirror, to download).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ingest.base import IngestError, SourceInfo
from ingest.gem_common import (
    FacilityAdapter,
    check_median,
    check_unique,
    country_iso3,
    number,
    place,
    read_table,
    require_columns,
    split_coordinates,
    status_of,
    text,
    year_of,
)

DIR = "point_sources/gem"
PLANTS_FILE = "gem_gcct_cement_plants_2025-06.csv.gz"
STATUSES = ("operating", "operating-pre-retirement", "construction", "announced", "mothballed", "retired",
            "cancelled", "unknown")
COL = {"id": "GEM Plant ID", "name": "GEM Asset name (English)", "coords": "Coordinates",
       "region": "Subnational unit", "country": "Country/Area",
       "cement": "Cement Capacity (millions metric tonnes per annum)",
       "clinker": "Clinker Capacity (millions metric tonnes per annum)", "status": "Operating status",
       "start": "Start date", "owner": "Owner name (English)", "type": "Plant type",
       "production": "Production type", "sfi": "SFI ID"}
PLANT_COLUMNS = ("plant_id", "name", "iso3", "region", "lon", "lat", "status", "retirement_announced",
                 "cement_capacity_mtpa", "clinker_capacity_mtpa", "start_year", "owner", "plant_type",
                 "production_type", "sfi_id")

INFO = SourceInfo(
    name="gem_cement",
    title="Global Energy Monitor, Global Cement and Concrete Tracker, June 2025",
    kind="point_sources",
    licence="CC-BY-4.0",
    url="https://globalenergymonitor.org/projects/global-cement-and-concrete-tracker/",
    shipped=(f"{DIR}/{PLANTS_FILE}",),
    note="3,517 plants; cement and clinker capacity in Mt/yr (unknown for many: '>0', 'unknown')",
)


def _capacity(s: pd.Series) -> tuple[pd.Series, dict[str, int]]:
    v = number(s)
    txt = s.astype("string").str.strip().str.lower()
    counts = {k: int((v.isna() & (txt == k)).sum()) for k in (">0", "unknown")}
    counts["missing"] = int((v.isna() & ~txt.isin([">0", "unknown"])).sum())
    return v, counts


def read_gem_cement_plants(path: Path) -> pd.DataFrame:
    """One row per GCCT plant (:data:`PLANT_COLUMNS`); plants without coordinates dropped (warned).

    ``cement_capacity_mtpa`` / ``clinker_capacity_mtpa`` Mt per year (NaN = not published);
    ``status`` one of ``operating`` (GEM's ``operating pre-retirement`` too, then ``retirement_announced``
    True), ``construction``, ``announced``, ``mothballed``, ``retired``, ``cancelled``, ``unknown``;
    ``start_year`` Int64 (NA for ``unknown`` and unreadable dates); lat/lon degrees (EPSG:4326).
    """
    path = Path(path)
    what = f"GEM cement plants {path.name}"
    raw = read_table(path, what=what, sheet="Plant Data", header_has=COL["id"])
    require_columns(raw, COL.values(), what=what)
    check_unique(raw[COL["id"]], what=what, key="plant id")
    cement, cement_n = _capacity(raw[COL["cement"]])
    clinker, clinker_n = _capacity(raw[COL["clinker"]])
    check_median(cement, 0.1, 10, what=what, unit="Mt/yr cement per plant")
    check_median(clinker, 0.1, 10, what=what, unit="Mt/yr clinker per plant")
    status = status_of(raw[COL["status"]], STATUSES, what=what)
    lat, lon = split_coordinates(raw[COL["coords"]])
    start = year_of(raw[COL["start"]])
    df = pd.DataFrame({
        "plant_id": text(raw[COL["id"]]), "name": text(raw[COL["name"]]),
        "iso3": country_iso3(raw[COL["country"]], what=what), "region": text(raw[COL["region"]]),
        "lon": lon, "lat": lat, "status": status.replace("operating-pre-retirement", "operating"),
        "retirement_announced": (status == "operating-pre-retirement").astype(bool),
        "cement_capacity_mtpa": cement, "clinker_capacity_mtpa": clinker, "start_year": start,
        "owner": text(raw[COL["owner"]]), "plant_type": text(raw[COL["type"]]).str.lower(),
        "production_type": text(raw[COL["production"]]).str.lower(), "sfi_id": text(raw[COL["sfi"]]),
    })
    out = place(df, what=what, id_col="plant_id")
    bad_dates = raw[COL["start"]].astype("string").str.strip().str.lower()
    out.attrs.update({
        "units": {"cement_capacity_mtpa": "Mt yr-1", "clinker_capacity_mtpa": "Mt yr-1",
                  "lat": "degrees_north", "lon": "degrees_east"},
        "rows_in": len(raw), "cement_capacity_not_numeric": cement_n, "clinker_capacity_not_numeric": clinker_n,
        "start_date_unreadable": int((start.isna() & bad_dates.notna() & (bad_dates != "unknown")).sum()),
    })
    return out


class GEMCementAdapter(FacilityAdapter):
    """GCCT plants.  ``read`` takes the plant table (CSV with the Plant Data columns, or the workbook)."""

    info = INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("GEM cement: give the one plant table")
        return read_gem_cement_plants(Path(paths[0]))

    def validate(self, data: pd.DataFrame) -> None:
        require_columns(data, PLANT_COLUMNS, what="GEM cement plant table")
        check_unique(data["plant_id"], what="GEM cement plant table", key="plant id")
        if not (data["lat"].between(-90, 90) & data["lon"].between(-180, 180)).all():
            raise IngestError("GEM cement plant table: coordinates off the globe")
