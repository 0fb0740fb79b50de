"""Spatial Finance Initiative GeoAsset databases, as harmonised by Climate TRACE (climate-trace-tools).

``sfi_geoasset_assets_via_climatetrace_tools.csv.gz``: columns ``source_id`` (Climate TRACE id, unique),
``sfi_uid`` (SFI's asset id, e.g. ``GACTDEU0008``; 3 ids occur twice at two sites), ``iso3_country``,
``sector``, ``asset_type``, ``lat``, ``lon``, ``capacity``, ``capacity_units``, ``ct_record_start``,
``created_date``.  Sectors kept (:data:`SECTORS`): Cement -> ``cement`` (3,105), Steel -> ``iron_steel``
(1,591), Petrochemicals -> ``petrochemicals`` (295), Pulp and Paper -> ``pulp_paper`` (329).  Dropped and
counted in ``attrs['dropped_sectors']`` (:data:`OTHER_SECTORS`): municipal wastewater, beef abattoirs
(not fossil CO2) and 6 coke plants.

Capacity units differ by sector: ``Megatonnes`` (cement, steel), ``Thousands of metric tonnes``
(petrochemicals), ``Tonnes`` (pulp and paper); ``capacity_mtpa`` converts them to Mt per year
(annual production capacity).  A capacity of 0 (154 pulp and paper mills) means unknown: NaN in
``capacity_mtpa``.  Capacity is missing for many cement and steel assets.  SFI publishes no operating
status: ``status`` is always NA.  ``iso3`` is as published; Climate TRACE codes a disputed area ``Z01``
(2 cement plants in Kashmir).

:func:`read_sfi_assets` -> :data:`ASSET_COLUMNS`.  The harmonised table has no stable public file URL, so
:class:`SFIAdapter` downloads only from a URL it is given.
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
    number,
    place,
    read_table,
    require_columns,
    text,
)

DIR = "point_sources/sfi"
ASSETS_FILE = "sfi_geoasset_assets_via_climatetrace_tools.csv.gz"
SECTORS = {"Cement": "cement", "Steel": "iron_steel", "Petrochemicals": "petrochemicals",
           "Pulp and Paper": "pulp_paper"}
OTHER_SECTORS = ("Municipal Wastewater Treatment", "Beef Abattoirs", "Coke")
MT_PER_UNIT = {"Megatonnes": 1.0, "Thousands of metric tonnes": 1e-3, "Tonnes": 1e-6}
"""Capacity unit as published -> Mt."""
REQUIRED = ("source_id", "sfi_uid", "iso3_country", "sector", "asset_type", "lat", "lon", "capacity",
            "capacity_units")
ASSET_COLUMNS = ("asset_id", "source_id", "iso3", "lon", "lat", "sector", "asset_type", "capacity",
                 "capacity_unit", "capacity_mtpa", "status")
MEDIAN_MTPA = {"cement": (0.2, 10.0), "iron_steel": (0.05, 20.0), "petrochemicals": (0.02, 5.0),
               "pulp_paper": (0.005, 5.0)}
"""Plausible median capacity (Mt/yr) per sector: the unit check."""

INFO = SourceInfo(
    name="sfi",
    title="Spatial Finance Initiative GeoAsset (cement, iron & steel, petrochemicals, pulp & paper), "
          "via Climate TRACE's climate-trace-tools",
    kind="point_sources",
    licence="CC-BY-4.0",
    url="https://www.cgfi.ac.uk/spatial-finance-initiative/geoasset-project/",
    shipped=(f"{DIR}/{ASSETS_FILE}",),
    note="no names and no status; capacity units differ by sector (converted to Mt/yr)",
)


def read_sfi_assets(path: Path) -> pd.DataFrame:
    """One row per asset of the four kept sectors (:data:`ASSET_COLUMNS`); assets without coordinates dropped.

    ``asset_id`` SFI's id, ``source_id`` Climate TRACE's (unique); ``capacity`` and ``capacity_unit`` as
    published, ``capacity_mtpa`` Mt per year (NaN where missing or 0); lat/lon degrees (EPSG:4326).
    """
    path = Path(path)
    what = f"SFI assets {path.name}"
    raw = read_table(path, what=what)
    require_columns(raw, REQUIRED, what=what)
    check_unique(raw["source_id"], what=what, key="source_id")
    sector_in = text(raw["sector"])
    unknown = sorted(set(sector_in.dropna()) - set(SECTORS) - set(OTHER_SECTORS))
    if unknown or sector_in.isna().any():
        raise IngestError(f"{what}: unknown sector(s) {unknown or ['<empty>']}; add them to ingest/sfi.SECTORS")
    keep = sector_in.isin(list(SECTORS))
    dropped = sector_in[~keep].value_counts().to_dict()
    raw, sector_in = raw[keep].reset_index(drop=True), sector_in[keep].reset_index(drop=True)
    unit = text(raw["capacity_units"])
    bad_unit = sorted(set(unit.dropna()) - set(MT_PER_UNIT))
    if bad_unit:
        raise IngestError(f"{what}: capacity unit(s) {bad_unit} are not masses per year")
    capacity = number(raw["capacity"])
    mtpa = (capacity * unit.map(MT_PER_UNIT).astype("float64")).where(capacity > 0)
    iso3 = text(raw["iso3_country"])
    if not iso3.str.fullmatch(r"[A-Z][A-Z0-9]{2}").fillna(False).all():
        raise IngestError(f"{what}: iso3_country values that are not 3-letter codes, e.g. "
                          f"{iso3[~iso3.str.fullmatch(r'[A-Z][A-Z0-9]{2}').fillna(False)].iloc[0]!r}")
    sector = sector_in.map(SECTORS).astype("string")
    for s, (lo, hi) in MEDIAN_MTPA.items():
        check_median(mtpa[sector == s], lo, hi, what=f"{what} ({s})", unit="Mt/yr per asset")
    df = pd.DataFrame({
        "asset_id": text(raw["sfi_uid"]), "source_id": raw["source_id"].astype("int64"), "iso3": iso3,
        "lon": number(raw["lon"]), "lat": number(raw["lat"]), "sector": sector,
        "asset_type": text(raw["asset_type"]), "capacity": capacity, "capacity_unit": unit,
        "capacity_mtpa": mtpa, "status": pd.Series(pd.NA, index=raw.index, dtype="string"),
    })
    out = place(df, what=what, id_col="source_id")
    out.attrs.update({"units": {"capacity_mtpa": "Mt yr-1", "lat": "degrees_north", "lon": "degrees_east"},
                      "dropped_sectors": {str(k): int(v) for k, v in dropped.items()},
                      "rows_in": len(keep)})
    return out


class SFIAdapter(FacilityAdapter):
    """SFI GeoAsset assets (Climate TRACE harmonised table)."""

    info = INFO

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("SFI: give the one asset table")
        return read_sfi_assets(Path(paths[0]))

    def validate(self, data: pd.DataFrame) -> None:
        require_columns(data, ASSET_COLUMNS, what="SFI asset table")
        check_unique(data["source_id"], what="SFI asset table", key="source_id")
        if not (data["lat"].between(-90, 90) & data["lon"].between(-180, 180)).all():
            raise IngestError("SFI asset table: coordinates off the globe")
