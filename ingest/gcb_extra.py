"""Global Carbon Budget 2025 extras from CICERO's GCB pages: the 2025 projection and national CO2 by fuel.

Both come from Robbie Andrew's pages (robbieandrew/robbieandrew.github.io@0cf3c5b6, the data behind the
GCB 2025 figures), CC BY 4.0.  Values have no unit in the files; the units below were established by
comparing with ``GCB2025v15_MtCO2_flat.csv`` (every fuel of every shipped country matches it to 0.1 %
in 1990, 2020 and 2024).

``cicero_GCB2025_global/Projections.csv`` (``GCB2025/data/Projections.csv`` in the repository)::

    "Year","Bunkers","Rest of World","Japan","India","China","EU27","USA"

**GtCO2 per year**, 1959 .. 2025: 1959-2024 are the GCB 2025 estimates, the last year (2025) is the
projection published with the budget on :data:`PUBLISHED` (2025-11-13).  The file has no low/high
range.  :func:`read_gcb_projections` returns only the projection year as the canonical yearly table,
variable ``co2_total_projection`` in **MtCO2** (x 1000), source ``gcb_projection``, iso3 ``CHN``,
``USA``, ``EU27``, ``IND``, ``JPN``, ``ROW`` (rest of world) and ``XBK`` (international bunkers,
aviation + shipping; GCB's ``XIA`` + ``XIS``).  The history rows duplicate the GCB flat file and are
only checked (consecutive years, range).  Lag: the projection is out before its year ends; a lag cannot
be negative, so ``gcb_projection`` registers 0 days (usable from 31 Dec of the projected year: later
than reality, conservative).  The true date is :data:`PUBLISHED`.

``cicero_country_GCB_fossilCO2/<CODE>_GCB_fossilCO2_data.csv`` (100 files)::

    "Year","Coal","Oil","Gas","Cement"

1950 .. 2024, MtCO2 per year, **except** ``CHN`` and ``WLD``, which are in **GtCO2** (:data:`GT_FILES`);
``EU`` is the EU27 (iso3 ``EU27``).  There are no Flaring, Other or Total columns: the four fuels sum to
GCB's Total minus Flaring minus Other (e.g. USA 2024: 4,707 of 4,904 Mt; Iraq 199 of 234 Mt).
:func:`read_gcb_country_by_fuel` -> canonical yearly table, variables ``co2_coal``, ``co2_oil``,
``co2_gas``, ``co2_cement`` (MtCO2), source ``gcb_country_fuel``; no ``co2_total`` is emitted because
it would lack flaring and other.  Lag: GCB 2025 appeared on 2025-11-13 for 2024, 317 days after the
year's end (:data:`LAG_NATIONAL`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import finish, register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo

COMMIT = "0cf3c5b6"
"""robbieandrew/robbieandrew.github.io commit the shipped files were taken from (abbreviated)."""
PROJECTIONS_URL = f"https://raw.githubusercontent.com/robbieandrew/robbieandrew.github.io/{COMMIT}/GCB2025/data/Projections.csv"
PUBLISHED = date(2025, 11, 13)
"""GCB 2025 (with the 2025 projection and the 2024 national estimates) was released on this day."""
PROJECTION_YEAR = 2025
PROJECTION_SOURCE = "gcb_projection"
COUNTRY_SOURCE = "gcb_country_fuel"
LAG_PROJECTION = register_lag(PROJECTION_SOURCE, 0)
LAG_NATIONAL = register_lag(COUNTRY_SOURCE, (PUBLISHED - date(2024, 12, 31)).days)
DIR = "statistical/gcb2025-extra"
PROJECTIONS_FILE = f"{DIR}/cicero_GCB2025_global/Projections.csv"
COUNTRY_DIR = f"{DIR}/cicero_country_GCB_fossilCO2"
MT_PER_GT = 1000.0

PROJECTION_COLUMNS: dict[str, str] = {"Bunkers": "XBK", "Rest of World": "ROW", "Japan": "JPN", "India": "IND",
                                      "China": "CHN", "EU27": "EU27", "USA": "USA"}
"""Published column -> iso3 (``XBK`` bunkers and ``ROW`` rest of world are carbonmap pseudo-codes)."""
MAX_GT = 60.0
"""No entity in these files emits more than this, GtCO2 yr-1 (the world ~38); more means Mt, not Gt."""
COUNTRY_COLUMNS: dict[str, str] = {"Coal": "co2_coal", "Oil": "co2_oil", "Gas": "co2_gas", "Cement": "co2_cement"}
GT_FILES = ("CHN", "WLD")
"""Country files whose values are GtCO2 (all others are MtCO2)."""
CODE_ALIASES = {"EU": "EU27"}
MAX_MT = MAX_GT * MT_PER_GT
_FILE_RE = re.compile(r"^([A-Z]{2,3})_GCB_fossilCO2_data\.csv$")

INFO = SourceInfo(
    name="gcb_extra",
    title="Global Carbon Budget 2025: 2025 projection and national fossil CO2 by fuel (CICERO GCB pages)",
    kind="statistical",
    licence="CC-BY-4.0 (Global Carbon Budget 2025; CICERO data pages, Robbie Andrew)",
    url="https://robbieandrew.github.io/GCB2025/",
    shipped=(PROJECTIONS_FILE, COUNTRY_DIR),
    note="projection for 2025 (GtCO2 -> MtCO2); coal/oil/gas/cement 1950-2024 for 98 countries, EU27 and World",
)


def _read(path: Path, what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{what} file not found: {path}")
    try:
        raw = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    if "Year" not in raw.columns or raw.empty:
        raise IngestError(f"{path.name}: no Year column or no rows; found {list(raw.columns)}")
    year = pd.to_numeric(raw["Year"], errors="coerce")
    if year.isna().any() or (year != np.round(year)).any():
        raise IngestError(f"{path.name}: Year must be whole years")
    raw["Year"] = year.astype(int)
    if not (np.diff(raw["Year"].to_numpy()) == 1).all():
        raise IngestError(f"{path.name}: years must be consecutive and unique, found "
                          f"{raw['Year'].min()}..{raw['Year'].max()} in {len(raw)} rows")
    for col in raw.columns[1:]:
        num = pd.to_numeric(raw[col], errors="coerce")
        if num.isna().any() or (num < 0).any():
            i = int(np.flatnonzero((num.isna() | (num < 0)).to_numpy())[0])
            got = "empty" if pd.isna(raw[col].iloc[i]) else repr(str(raw[col].iloc[i]))
            raise IngestError(f"{path.name}: {col!r} in {raw['Year'].iloc[i]} is {got}; expected a number >= 0 "
                              f"(truncated file?)")
        raw[col] = num.astype(np.float64)
    return raw


def read_gcb_projections(path: Path) -> pd.DataFrame:
    """``Projections.csv`` -> canonical yearly table of the projection year, ``co2_total_projection`` (MtCO2)."""
    path = Path(path)
    raw = _read(path, "GCB projections")
    if set(raw.columns[1:]) != set(PROJECTION_COLUMNS):
        raise IngestError(f"{path.name}: expected the columns Year + {list(PROJECTION_COLUMNS)}, "
                          f"found {list(raw.columns)}")
    big = raw[list(PROJECTION_COLUMNS)] > MAX_GT
    if big.any().any():
        col = str(big.any()[big.any()].index[0])
        raise IngestError(f"{path.name}: {col} reaches {raw[col].max():g}, over {MAX_GT:g} GtCO2: "
                          f"the file must be in GtCO2 (is it MtCO2?)")
    last = raw.iloc[-1]
    if int(last["Year"]) != PROJECTION_YEAR:
        raise IngestError(f"{path.name}: the last year is {int(last['Year'])}, expected the projection year "
                          f"{PROJECTION_YEAR}; a different GCB release?")
    df = pd.DataFrame({"iso3": [PROJECTION_COLUMNS[c] for c in PROJECTION_COLUMNS],
                       "period": pd.Timestamp(f"{PROJECTION_YEAR}-01-01"), "frequency": "yearly",
                       "variable": "co2_total_projection",
                       "value": [float(last[c]) * MT_PER_GT for c in PROJECTION_COLUMNS],
                       "unit": "MtCO2", "region": "", "source": PROJECTION_SOURCE})
    out = finish(df, path.name, source=PROJECTION_SOURCE, max_value={"co2_total_projection": MAX_MT})
    out.attrs.update({"published": PUBLISHED.isoformat(), "history_years": f"{raw['Year'].iloc[0]}-"
                      f"{raw['Year'].iloc[-2]}", "world_projection_mt": float(out["value"].sum())})
    return out


def country_files(directory: Path) -> list[Path]:
    """The ``<CODE>_GCB_fossilCO2_data.csv`` files of a directory, sorted."""
    directory = Path(directory)
    if not directory.is_dir():
        raise IngestError(f"GCB country directory not found: {directory}")
    files = sorted(p for p in directory.iterdir() if _FILE_RE.match(p.name))
    if not files:
        raise IngestError(f"{directory}: no <CODE>_GCB_fossilCO2_data.csv files")
    return files


def read_gcb_country_file(path: Path) -> pd.DataFrame:
    """One ``<CODE>_GCB_fossilCO2_data.csv`` -> canonical yearly rows (MtCO2 per fuel)."""
    path = Path(path)
    m = _FILE_RE.match(path.name)
    if not m:
        raise IngestError(f"{path.name!r} is not a GCB country file name (<CODE>_GCB_fossilCO2_data.csv)")
    code = m.group(1)
    raw = _read(path, "GCB country")
    if list(raw.columns) != ["Year", *COUNTRY_COLUMNS]:
        raise IngestError(f"{path.name}: expected the columns {['Year', *COUNTRY_COLUMNS]}, found {list(raw.columns)}")
    values = raw[list(COUNTRY_COLUMNS)]
    if code in GT_FILES:
        if float(values.to_numpy().max()) > MAX_GT:
            raise IngestError(f"{path.name}: values reach {values.to_numpy().max():g}; {code} is published in GtCO2 "
                              f"(<= {MAX_GT:g}), so these look like MtCO2")
        values = values * MT_PER_GT
    df = values.assign(iso3=CODE_ALIASES.get(code, code), period=pd.to_datetime(raw["Year"].astype(str) + "-01-01"))
    long = df.melt(id_vars=["iso3", "period"], var_name="fuel", value_name="value")
    long["variable"] = long["fuel"].map(COUNTRY_COLUMNS)
    return long.drop(columns="fuel").assign(region="", frequency="yearly", unit="MtCO2", source=COUNTRY_SOURCE)


def read_gcb_country_by_fuel(directory_or_files: Path | Sequence[Path]) -> pd.DataFrame:
    """All country files (a directory or a list) -> canonical yearly table: coal, oil, gas, cement in MtCO2."""
    if isinstance(directory_or_files, (str, Path)):
        files = country_files(Path(directory_or_files))
    else:
        files = [Path(p) for p in directory_or_files]
    if not files:
        raise IngestError("no GCB country files given")
    long = pd.concat([read_gcb_country_file(p) for p in files], ignore_index=True)
    name = files[0].parent.name if len(files) > 1 else files[0].name
    return finish(long, name, source=COUNTRY_SOURCE, max_value={v: MAX_MT for v in COUNTRY_COLUMNS.values()})


def compare_with_gcb(table: pd.DataFrame, gcb: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per iso3 and fuel: this table's value, GCB flat's (``ingest.gcb.read_gcb``) and their relative difference.

    Also a ``coal_oil_gas_cement`` row per country: the four fuels against GCB's total - flaring - other."""
    t = table[(table["period"].dt.year == year) & (table["variable"].isin(list(COUNTRY_COLUMNS.values())))]
    ours = t.pivot_table(index="iso3", columns="variable", values="value", aggfunc="sum")
    ours["coal_oil_gas_cement"] = ours.sum(axis=1)
    g = gcb[gcb["year"] == year].set_index("iso3").fillna({"flaring": 0.0, "other": 0.0})
    ref = pd.DataFrame({f"co2_{f}": g[f] for f in ("coal", "oil", "gas", "cement")})
    ref["coal_oil_gas_cement"] = g["total"] - g["flaring"] - g["other"]
    common = ours.index.intersection(ref.index)
    a = ours.loc[common].stack().rename("value")
    b = ref.loc[common].fillna(0.0).stack().rename("gcb")
    out = pd.concat([a, b], axis=1).reset_index().rename(columns={"level_1": "variable"})
    out["rel_diff"] = (out["value"] - out["gcb"]).abs() / out["gcb"].abs().clip(lower=1e-9)
    out.loc[(out["value"] - out["gcb"]).abs() < 1e-3, "rel_diff"] = 0.0
    return out


class GCBExtraAdapter(BaseAdapter[pd.DataFrame]):
    """Projections.csv and/or the country files -> one canonical yearly table (MtCO2)."""

    info = INFO

    def __init__(self, country_base_url: str | None = None, projections_url: str = PROJECTIONS_URL,
                 settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.projections_url = projections_url
        self.country_base_url = country_base_url.rstrip("/") if country_base_url else None
        """Where ``<CODE>_GCB_fossilCO2_data.csv`` are served; their path inside the repository was not
        recorded with the shipped copies, so there is no default."""

    def download(self, start: date, end: date, codes: Sequence[str] = ()) -> list[Path]:
        """Projections.csv, plus the country files of ``codes`` when ``country_base_url`` is set."""
        from ingest.download import fetch

        paths = [fetch(self.projections_url, source=self.info.name, settings=self.settings)]
        if codes and self.country_base_url is None:
            raise IngestError("the URL of CICERO's per-country GCB files is not known to carbonmap; pass "
                              "country_base_url= (the folder serving <CODE>_GCB_fossilCO2_data.csv)")
        for code in codes:
            paths.append(fetch(f"{self.country_base_url}/{code}_GCB_fossilCO2_data.csv", source=self.info.name,
                               settings=self.settings))
        return paths

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        paths = [Path(p) for p in paths]
        proj = [p for p in paths if p.name == "Projections.csv"]
        countries = [p for p in paths if _FILE_RE.match(p.name)]
        other = [p for p in paths if p not in proj and p not in countries and not p.is_dir()]
        dirs = [p for p in paths if p.is_dir()]
        if other:
            raise IngestError(f"not a GCB extra file: {other[0].name} (expected Projections.csv or "
                              f"<CODE>_GCB_fossilCO2_data.csv)")
        for d in dirs:
            countries += country_files(d)
        parts = [read_gcb_projections(p) for p in proj]
        if countries:
            parts.append(read_gcb_country_by_fuel(countries))
        if not parts:
            raise IngestError("no GCB extra files given")
        out = pd.concat(parts, ignore_index=True)
        self.validate(out)
        return out

    def validate(self, data: pd.DataFrame) -> None:
        for src, part in data.groupby("source"):
            finish(part, f"GCB extra table ({src})", source=str(src),
                   max_value={v: MAX_MT for v in [*COUNTRY_COLUMNS.values(), "co2_total_projection"]})
