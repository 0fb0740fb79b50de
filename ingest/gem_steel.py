"""GEM Global Iron and Steel Tracker (GIST, March 2025): plants >= 0.5 Mt/yr with capacity by process.

Two map files of GEM's tracker-map repository (shipped gzipped):

- plants (``gem_gist_iron_steel_plants_2025-03.csv.gz``, 1,204 rows): one row per plant with place,
  owner, status, start date and nominal capacity per status and process, thousand tonnes per year (ttpa);
- units (``gem_gist_iron_steel_units_2025-03.csv.gz``, 4,983 rows): one row per furnace (``tab-type``
  Blast_furnaces, Basic_oxygen_furnaces, Electric_arc_furnaces, DRI_furnaces, Open_hearth_furnaces) with
  its status and ``current-capacity-(ttpa)`` (``>0`` = size unknown, counted as 0 as GEM does).

:func:`read_gem_steel_plants` sums the furnaces of each plant by process for the **operating** statuses
(``operating`` and ``operating pre-retirement``: both run today) and adds the plant table's
"other/unspecified" steel capacity, which has no furnace rows.  The sums are checked against the plant
table's own per-process columns: a mismatch (a truncated or mixed-vintage file) raises IngestError.
Columns :data:`PLANT_COLUMNS`, capacities in Mt per year (crude steel for BOF/EAF/OHF/other, iron for
BF/DRI).

Route emission factors, t CO2 per t crude steel (ONE table, :data:`ROUTE_EF_T_CO2_PER_T`): blast
furnace - basic oxygen furnace 2.2; gas-based DRI - EAF 1.4; scrap EAF 0.4; other/unspecified 1.9.
Sources: worldsteel, *Sustainability Indicators* reports 2022-2024, which report the CO2 intensity per
route since 2022 (BF-BOF about 2.2-2.3, DRI-EAF about 1.4, scrap-EAF about 0.7 including purchased
electricity; industry average 1.85-1.92 t CO2/t for 2019-2023); IEA, *Iron and Steel Technology
Roadmap* (2020), the same order (BF-BOF about 2.2 t, gas DRI-EAF about 1.4 t, scrap EAF 0.3-0.4 t,
direct plus indirect).  These are scope 1 plus upstream (coke, pellets, part of electricity)
intensities: the EAF values partly hold electricity emissions that the power sector also counts, and
coal-based DRI (India) emits about twice the gas-based value.  They place and scale the industrial
share of emissions; they are not an inventory.

:func:`route_capacity` allocates each plant's capacity to routes (rule in its docstring) and
:func:`plant_co2_capacity` gives Mt CO2 per year at full utilisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import IngestError, SourceInfo
from ingest.gem_common import (
    FacilityAdapter,
    check_median,
    check_unique,
    country_iso3,
    header_of,
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
PLANTS_FILE = "gem_gist_iron_steel_plants_2025-03.csv.gz"
UNITS_FILE = "gem_gist_iron_steel_units_2025-03.csv.gz"
MT_PER_TTPA = 1e-3
ROUTE_EF_T_CO2_PER_T: dict[str, float] = {
    "bf_bof": 2.2,     # blast furnace + basic oxygen (or open-hearth) furnace
    "dri_eaf": 1.4,    # gas-based direct reduced iron melted in an electric arc furnace
    "scrap_eaf": 0.4,  # electric arc furnace on scrap
    "other": 1.9,      # other/unspecified steelmaking: worldsteel's all-route average
}
"""t CO2 per t crude steel by route (sources in the module docstring)."""
PLANT_STATUSES = ("operating", "operating-pre-retirement", "construction", "announced", "mothballed",
                  "mothballed-pre-retirement", "retired", "cancelled")
FURNACES = {"Basic_oxygen_furnaces": "bf_bof", "Electric_arc_furnaces": "eaf", "Open_hearth_furnaces": "ohf",
            "Blast_furnaces": "bf", "DRI_furnaces": "dri"}
"""Furnace type (``tab-type``) -> capacity column stem."""
STATUS_GROUP = {"operating": "operating", "operating-pre-retirement": "operating", "construction": "construction",
                "announced": "announced", "mothballed": "mothballed", "mothballed-pre-retirement": "mothballed",
                "retired": "retired", "cancelled": "cancelled"}
PLANT_COLUMNS = ("plant_id", "plant_name", "iso3", "region", "lon", "lat", "status", "retirement_announced",
                 "start_year", "owner", "parent", "main_equipment", "bf_bof_capacity_mtpa", "eaf_capacity_mtpa",
                 "ohf_capacity_mtpa", "other_steel_capacity_mtpa", "crude_steel_capacity_mtpa", "bf_capacity_mtpa",
                 "dri_capacity_mtpa", "pre_retirement_crude_steel_capacity_mtpa",
                 "construction_crude_steel_capacity_mtpa", "mothballed_crude_steel_capacity_mtpa")
_P = {"id": "plant-id", "name": "plant-name-(english)", "owner": "owner", "parent": "parent",
      "region": "subnational-unit-(province/state)", "country": "country/area", "coords": "coordinates",
      "lat": "lat", "lon": "lng", "start": "start-date", "status": "plant-status",
      "equipment": "main-production-equipment"}
_CAP = "{}-{}-capacity-(ttpa)"
CHECKED = {  # plant-table column -> units-derived column it must equal (operating statuses)
    "bf_bof": ("nominal-bof-steel", ("operating", "operating-pre-retirement")),
    "eaf": ("nominal-eaf-steel", ("operating", "operating-pre-retirement")),
    "bf": ("nominal-bf", ("operating", "operating-pre-retirement")),
    "dri": ("nominal-dri", ("operating", "operating-pre-retirement")),
    "ohf": ("nominal-ohf-steel", ("operating",)),
}
OTHER = ("operating-other/unspecified-steel-capacity-(ttpa)",
         "operating-pre-retirement-other/unspecified-steel-capacity-(ttpa)")
CRUDE = {s: f"{s}-nominal-crude-steel-capacity-(ttpa)" for s in
         ("operating", "operating-pre-retirement", "construction", "mothballed")}
_U = ("tab-type", "gem-plant-id", "gem-unit-id", "status", "current-capacity-(ttpa)")

GEM_REPO = "https://raw.githubusercontent.com/GlobalEnergyMonitor/maps/7b94491f"
PLANTS_URL = f"{GEM_REPO}/trackers/gist/compilation_output/Iron%20%26%20Steel-map-file-2025-03-25.csv"
UNITS_URL = f"{GEM_REPO}/trackers/gist/compilation_output/Iron%20%26%20Steel-map-file-2025-03-18.csv"

INFO = SourceInfo(
    name="gem_steel",
    title="Global Energy Monitor, Global Iron and Steel Tracker, March 2025 (map files)",
    kind="point_sources",
    licence="CC-BY-4.0",
    url="https://globalenergymonitor.org/projects/global-iron-and-steel-tracker/",
    shipped=(f"{DIR}/{PLANTS_FILE}", f"{DIR}/{UNITS_FILE}"),
    note="1,204 plants >= 0.5 Mt/yr; capacity by process from 4,983 furnaces; ttpa converted to Mt/yr",
)


def _unit_sums(units: pd.DataFrame, what: str) -> pd.DataFrame:
    """Capacity (ttpa) per plant, status and furnace stem: columns ``<status>|<stem>``."""
    require_columns(units, _U, what=what)
    check_unique(units["gem-unit-id"], what=what, key="unit id")
    bad_type = sorted(set(units["tab-type"].dropna()) - set(FURNACES))
    if bad_type or units["tab-type"].isna().any():
        raise IngestError(f"{what}: unknown furnace type(s) {bad_type or ['<empty>']}")
    cap = number(units["current-capacity-(ttpa)"])
    check_median(cap, 100, 20_000, what=what, unit="ttpa per furnace")
    st = status_of(units["status"], PLANT_STATUSES, what=what)
    key = st + "|" + units["tab-type"].map(FURNACES)
    table = cap.fillna(0.0).groupby([text(units["gem-plant-id"]), key]).sum().unstack(fill_value=0.0)
    return table.astype(np.float64)


def read_gem_steel_plants(plants_path: Path, units_path: Path) -> pd.DataFrame:
    """One row per GIST plant (:data:`PLANT_COLUMNS`); plants without coordinates dropped (warned).

    ``status``: the plant status (``operating``, ``construction``, ``announced``, ``mothballed``,
    ``retired``, ``cancelled``; GEM's ``operating pre-retirement`` is ``operating`` with
    ``retirement_announced`` True).  Capacities, Mt per year, of the operating furnaces (incl. those with a
    retirement announced): ``bf_bof``/``eaf``/``ohf``/``other_steel`` crude steel, their sum
    ``crude_steel_capacity_mtpa``; ``bf``/``dri`` iron.  ``pre_retirement_crude_steel_capacity_mtpa`` is
    the part of the crude steel capacity whose retirement is announced; construction and mothballed crude
    steel capacity are given apart.  ``start_year`` Int64 from GEM's start date.
    """
    plants_path, units_path = Path(plants_path), Path(units_path)
    what = f"GEM steel plants {plants_path.name}"
    p = read_table(plants_path, what=what)
    require_columns(p, [*_P.values(), *OTHER, *CRUDE.values(), *(
        _CAP.format(s, c) for c, ss in CHECKED.values() for s in ss)], what=what)
    check_unique(p[_P["id"]], what=what, key="plant id")
    crude_all = sum(number(p[c]).fillna(0.0) for c in CRUDE.values())
    check_median(crude_all, 100, 20_000, what=what, unit="ttpa per plant")
    u = _unit_sums(read_table(units_path, what=f"GEM steel units {units_path.name}"),
                   f"GEM steel units {units_path.name}")
    ids = text(p[_P["id"]])
    stray = sorted(set(u.index) - set(ids))
    if stray:
        raise IngestError(f"GEM steel units {units_path.name}: furnaces of plant(s) {stray[:3]} that are not in "
                          f"{plants_path.name} (files of different vintages?)")
    u = u.reindex(ids.tolist(), fill_value=0.0)

    def ops(stem: str, statuses: Sequence[str] = ("operating", "operating-pre-retirement")) -> np.ndarray:
        return sum((u[f"{s}|{stem}"].to_numpy() if f"{s}|{stem}" in u.columns else np.zeros(len(u))
                    for s in statuses), np.zeros(len(u)))

    for stem, (col, statuses) in CHECKED.items():
        published = sum(number(p[_CAP.format(s, col)]).fillna(0.0).to_numpy() for s in statuses)
        diff = np.abs(ops(stem, statuses) - published) > 0.5
        if diff.any():
            i = int(np.flatnonzero(diff)[0])
            raise IngestError(f"{what}: plant {ids.iloc[i]}: operating {stem} furnaces of the units file sum to "
                              f"{ops(stem, statuses)[i]:g} ttpa but the plant table says {published[i]:g} ttpa")
    other = sum(number(p[c]).fillna(0.0).to_numpy() for c in OTHER)
    steel = {k: ops(k) for k in ("bf_bof", "eaf", "ohf")}
    crude = steel["bf_bof"] + steel["eaf"] + steel["ohf"] + other
    published_crude = sum(number(p[CRUDE[s]]).fillna(0.0).to_numpy() for s in ("operating", "operating-pre-retirement"))
    if (np.abs(crude - published_crude) > 0.5).any():
        i = int(np.flatnonzero(np.abs(crude - published_crude) > 0.5)[0])
        raise IngestError(f"{what}: plant {ids.iloc[i]}: BOF + EAF + OHF + other = {crude[i]:g} ttpa but the "
                          f"operating crude steel capacity is {published_crude[i]:g} ttpa")
    status = status_of(p[_P["status"]], PLANT_STATUSES, what=what)
    lat, lon = number(p[_P["lat"]]), number(p[_P["lon"]])
    clat, clon = split_coordinates(p[_P["coords"]])
    lat, lon = lat.fillna(clat), lon.fillna(clon)
    df = pd.DataFrame({
        "plant_id": ids, "plant_name": text(p[_P["name"]]), "iso3": country_iso3(p[_P["country"]], what=what),
        "region": text(p[_P["region"]]), "lon": lon, "lat": lat,
        "status": status.map(STATUS_GROUP).astype("string"),
        "retirement_announced": status.str.endswith("pre-retirement").astype(bool),
        "start_year": year_of(p[_P["start"]]), "owner": text(p[_P["owner"]]), "parent": text(p[_P["parent"]]),
        "main_equipment": text(p[_P["equipment"]]),
        "bf_bof_capacity_mtpa": steel["bf_bof"] * MT_PER_TTPA, "eaf_capacity_mtpa": steel["eaf"] * MT_PER_TTPA,
        "ohf_capacity_mtpa": steel["ohf"] * MT_PER_TTPA, "other_steel_capacity_mtpa": other * MT_PER_TTPA,
        "crude_steel_capacity_mtpa": crude * MT_PER_TTPA, "bf_capacity_mtpa": ops("bf") * MT_PER_TTPA,
        "dri_capacity_mtpa": ops("dri") * MT_PER_TTPA,
        "pre_retirement_crude_steel_capacity_mtpa": number(p[CRUDE["operating-pre-retirement"]]).fillna(0.0)
        * MT_PER_TTPA,
        "construction_crude_steel_capacity_mtpa": number(p[CRUDE["construction"]]).fillna(0.0) * MT_PER_TTPA,
        "mothballed_crude_steel_capacity_mtpa": number(p[CRUDE["mothballed"]]).fillna(0.0) * MT_PER_TTPA,
    })
    out = place(df, what=what, id_col="plant_id")
    out.attrs.update({"units": {c: "Mt yr-1" for c in PLANT_COLUMNS if c.endswith("_mtpa")}, "rows_in": len(p),
                      "route_ef_t_co2_per_t": dict(ROUTE_EF_T_CO2_PER_T)})
    return out


def route_capacity(df: pd.DataFrame) -> pd.DataFrame:
    """Operating crude steel capacity of each plant by route, Mt per year (columns of :data:`ROUTE_EF_T_CO2_PER_T`).

    Rule (1 t of iron taken as 1 t of steel): DRI iron feeds the EAFs first (``dri_eaf`` = min(EAF, DRI));
    blast-furnace iron feeds the BOFs and open-hearth furnaces (``bf_bof`` = BOF + OHF) and its surplus
    (BF - BOF - OHF) the EAFs left (counted ``bf_bof``: hot metal in an EAF emits like the BF route); the
    remaining EAF capacity is ``scrap_eaf``; other/unspecified steelmaking is ``other``.  A plant with no
    steelmaking (iron only: merchant pig iron or DRI) counts its BF iron as ``bf_bof`` and its DRI as
    ``dri_eaf``: the ironmaking step makes most of these routes' CO2.
    """
    bof = df["bf_bof_capacity_mtpa"] + df["ohf_capacity_mtpa"]
    eaf, bf, dri = df["eaf_capacity_mtpa"], df["bf_capacity_mtpa"], df["dri_capacity_mtpa"]
    dri_eaf = np.minimum(eaf, dri)
    hot_metal_eaf = np.minimum(eaf - dri_eaf, (bf - bof).clip(lower=0.0))
    iron_only = df["crude_steel_capacity_mtpa"] <= 0
    return pd.DataFrame({
        "bf_bof": bof + hot_metal_eaf + bf.where(iron_only, 0.0),
        "dri_eaf": dri_eaf + dri.where(iron_only, 0.0),
        "scrap_eaf": eaf - dri_eaf - hot_metal_eaf,
        "other": df["other_steel_capacity_mtpa"],
    }, index=df.index)


def plant_co2_capacity(df: pd.DataFrame) -> pd.Series:
    """Mt CO2 per year of each plant at full utilisation of its operating capacity (:func:`route_capacity`
    x :data:`ROUTE_EF_T_CO2_PER_T`)."""
    routes = route_capacity(df)
    return sum((routes[r] * ef for r, ef in ROUTE_EF_T_CO2_PER_T.items()), pd.Series(0.0, index=df.index))


class GEMSteelAdapter(FacilityAdapter):
    """GIST plants.  ``read`` takes the plants and the units map files (either order)."""

    info = INFO
    urls = (PLANTS_URL, UNITS_URL)

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 2:
            raise IngestError("GEM steel: give the plants and the units map files")
        a, b = (Path(p) for p in paths)
        return read_gem_steel_plants(b, a) if "gem-unit-id" in header_of(a) else read_gem_steel_plants(a, b)

    def validate(self, data: pd.DataFrame) -> None:
        require_columns(data, PLANT_COLUMNS, what="GEM steel plant table")
        check_unique(data["plant_id"], what="GEM steel plant table", key="plant id")
        if not (data["lat"].between(-90, 90) & data["lon"].between(-180, 180)).all():
            raise IngestError("GEM steel plant table: coordinates off the globe")
