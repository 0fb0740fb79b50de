"""EUROCONTROL daily IFR flights per member state (``daio_YYYY.csv[.gz]``, euctrl-pru/daio).

Published layout (one file per year, UTC days, sorted by state then date)::

    entry_date,country_icao_code,country_name,flt_daio,flt_o,flt_i,flt_c,flt_dai,flt_d,flt_a,flt_da,flt_i_excl_c

The repository's README defines the counts (flights per day): ``flt_d`` departures, ``flt_a`` arrivals
(both to/from another state), ``flt_i`` internal flights (departure and destination in the state, incl.
``flt_c`` circular flights that land where they took off), ``flt_o`` overflights, and the sums
``flt_dai = d + a + i``, ``flt_da = d + a``, ``flt_daio = d + a + i + o``, ``flt_i_excl_c = i - c``.
The reader checks these four identities on every row (a shifted or mislabelled column breaks them).
Spain includes the Canary Islands.  ``flt_o`` is derived by the publisher as ``daio - dai`` and is
slightly negative on 653 state-days of the shipped files (down to -11; Moldova, Israel, Ukraine, Spain):
it is allowed down to :data:`MIN_OVERFLIGHTS` and not emitted; every other count must be >= 0.

:func:`read_eurocontrol_daily` -> the canonical daily table of :mod:`ingest.activity` (unit ``flights``
per day) with variables

- ``flights`` = ``flt_daio`` (every IFR flight touching the state's airspace),
- ``flights_departures`` = ``flt_d``, ``flights_arrivals`` = ``flt_a``, ``flights_internal`` = ``flt_i``.

States are identified by their ICAO location prefix (``country_icao_code``), mapped to ISO 3166-1
alpha-3 by :data:`STATES` (the published name must match too).  Two entries are airspaces of two
countries, kept whole under grouped codes (:data:`GROUPS`, like ``ingest.edgar.EDGAR_GROUPS``):
``EB`` "Belgium and Luxembourg" -> ``BEL_LUX`` and ``LY`` "Serbia & Montenegro" -> ``SRB_MNE`` (both
countries' airports use the LY prefix; Kosovo's BK airports are not in it).  The files hold no
network aggregate (no "Total Network Manager Area" row); an unknown state raises IngestError.

Coverage: 2019-01-01 .. 2026-07-23 in the shipped files, 40 entries (42 countries), every state on
every day.  Publication lag: the repository is updated daily with the day before yesterday;
:data:`LAG_DAYS` = 2.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import finish, register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo

SOURCE = "eurocontrol"
COMMIT = "012a2681"
"""euctrl-pru/daio commit the shipped files were taken from (abbreviated; GitHub resolves it)."""
BASE_URL = f"https://raw.githubusercontent.com/euctrl-pru/daio/{COMMIT}"
FIRST_YEAR = 2019
DIR = "activity/transport/eurocontrol_daio"
YEARS_SHIPPED = tuple(range(2019, 2027))
LAG_DAYS = register_lag(SOURCE, 2)
MIN_OVERFLIGHTS = -100
"""Lowest ``flt_o`` accepted (the publisher's derived overflights dip below 0 by a few flights)."""
MAX_FLIGHTS_PER_DAY = 50_000.0
"""No state sees more than this many IFR flights a day (the busiest, ~12,600); more means a wrong column."""

COLUMNS = ("entry_date", "country_icao_code", "country_name", "flt_daio", "flt_o", "flt_i", "flt_c", "flt_dai",
           "flt_d", "flt_a", "flt_da", "flt_i_excl_c")
COUNTS = COLUMNS[3:]
VARIABLE_OF: dict[str, str] = {"flt_daio": "flights", "flt_d": "flights_departures", "flt_a": "flights_arrivals",
                               "flt_i": "flights_internal"}
"""Published count -> canonical variable."""

STATES: dict[str, tuple[str, str]] = {
    "EB": ("Belgium and Luxembourg", "BEL_LUX"), "ED": ("Germany", "DEU"), "EE": ("Estonia", "EST"),
    "EF": ("Finland", "FIN"), "EG": ("United Kingdom", "GBR"), "EH": ("Netherlands", "NLD"),
    "EI": ("Ireland", "IRL"), "EK": ("Denmark", "DNK"), "EN": ("Norway", "NOR"), "EP": ("Poland", "POL"),
    "ES": ("Sweden", "SWE"), "EV": ("Latvia", "LVA"), "EY": ("Lithuania", "LTU"), "GM": ("Morocco", "MAR"),
    "LA": ("Albania", "ALB"), "LB": ("Bulgaria", "BGR"), "LC": ("Cyprus", "CYP"), "LD": ("Croatia", "HRV"),
    "LE": ("Spain", "ESP"), "LF": ("France", "FRA"), "LG": ("Greece", "GRC"), "LH": ("Hungary", "HUN"),
    "LI": ("Italy", "ITA"), "LJ": ("Slovenia", "SVN"), "LK": ("Czech Republic", "CZE"), "LL": ("Israel", "ISR"),
    "LM": ("Malta", "MLT"), "LO": ("Austria", "AUT"), "LP": ("Portugal", "PRT"),
    "LQ": ("Bosnia-Herzegovina", "BIH"), "LR": ("Romania", "ROU"), "LS": ("Switzerland", "CHE"),
    "LT": ("Türkiye", "TUR"), "LU": ("Moldova", "MDA"), "LW": ("North Macedonia", "MKD"),
    "LY": ("Serbia & Montenegro", "SRB_MNE"), "LZ": ("Slovakia", "SVK"), "UD": ("Armenia", "ARM"),
    "UG": ("Georgia", "GEO"), "UK": ("Ukraine", "UKR"),
}
"""ICAO prefix -> (published name, ISO3 or grouped code)."""
GROUPS: dict[str, tuple[str, ...]] = {"BEL_LUX": ("BEL", "LUX"), "SRB_MNE": ("SRB", "MNE")}
"""Grouped codes -> member ISO3 codes (one airspace entry in the source)."""

_NAME_RE = re.compile(r"daio_(\d{4})\.csv(\.gz)?$")

INFO = SourceInfo(
    name=SOURCE,
    title="EUROCONTROL daily IFR flights per member state (departures, arrivals, internal, overflights)",
    kind="activity",
    licence="EUROCONTROL PRU open data; no licence file in the repository: cite EUROCONTROL (ansperformance.eu)",
    url="https://github.com/euctrl-pru/daio",
    shipped=tuple(f"{DIR}/daio_{y}.csv.gz" for y in YEARS_SHIPPED),
    note="euctrl-pru/daio@012a2681, 2019-01-01..2026-07-23, 40 entries; BEL_LUX and SRB_MNE are grouped",
)


def year_of(path: Path) -> int:
    """The year in a ``daio_YYYY.csv[.gz]`` file name."""
    m = _NAME_RE.search(Path(path).name)
    if not m:
        raise IngestError(f"{Path(path).name!r} is not a EUROCONTROL daio file name (daio_YYYY.csv[.gz])")
    return int(m.group(1))


def _read_raw(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"EUROCONTROL file not found: {path}")
    try:
        raw = pd.read_csv(path, dtype={"country_icao_code": "string", "country_name": "string",
                                       "entry_date": "string"}, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, EOFError,
            gzip.BadGzipFile, zlib.error) as e:
        raise IngestError(f"{path.name} is not a readable (gzipped) CSV: {e}") from e
    if tuple(raw.columns) != COLUMNS:
        raise IngestError(f"{path.name}: expected the daio columns {list(COLUMNS)}, found {list(raw.columns)}")
    return raw


def _check_file(raw: pd.DataFrame, name: str, year: int) -> pd.DataFrame:
    """Parse dates and counts of one year's file and check it; returns it with a ``day`` column."""
    day = pd.to_datetime(raw["entry_date"], format="%Y-%m-%d", errors="coerce")
    if day.isna().any():
        i = int(np.flatnonzero(day.isna().to_numpy())[0])
        raise IngestError(f"{name}: row {i + 2} has no valid entry_date ({raw['entry_date'].iloc[i]!r})")
    if (day.dt.year != year).any():
        i = int(np.flatnonzero((day.dt.year != year).to_numpy())[0])
        raise IngestError(f"{name}: entry_date {day.iloc[i].date()} (row {i + 2}) is not in {year}")
    out = raw.assign(day=day)
    for col in COUNTS:
        num = pd.to_numeric(raw[col], errors="coerce")
        bad = num.isna() | (num < (MIN_OVERFLIGHTS if col == "flt_o" else 0)) | (num != np.round(num))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise IngestError(f"{name}: {col} must be a count of flights; row {i + 2} has {raw[col].iloc[i]!r} "
                              f"(truncated file?)")
        out[col] = num.astype(np.int64)
    big = out["flt_daio"] > MAX_FLIGHTS_PER_DAY
    if big.any():
        r = out[big].iloc[0]
        raise IngestError(f"{name}: {r['country_name']} has {r['flt_daio']} flights on {r['day'].date()}, over "
                          f"{MAX_FLIGHTS_PER_DAY:g}: not a daily count of flights")
    identities = {"flt_daio = flt_o + flt_dai": out["flt_daio"] - out["flt_o"] - out["flt_dai"],
                  "flt_dai = flt_d + flt_a + flt_i": out["flt_dai"] - out["flt_d"] - out["flt_a"] - out["flt_i"],
                  "flt_da = flt_d + flt_a": out["flt_da"] - out["flt_d"] - out["flt_a"],
                  "flt_i_excl_c = flt_i - flt_c": out["flt_i_excl_c"] - out["flt_i"] + out["flt_c"]}
    for rule, diff in identities.items():
        if (diff != 0).any():
            i = int(np.flatnonzero((diff != 0).to_numpy())[0])
            raise IngestError(f"{name}: row {i + 2} ({out['country_name'].iloc[i]}, {out['day'].iloc[i].date()}) "
                              f"breaks {rule}; columns shifted or mislabelled?")
    codes = out["country_icao_code"].astype(str)
    unknown = sorted(set(codes) - set(STATES))
    if unknown:
        raise IngestError(f"{name}: unknown EUROCONTROL state code(s) {unknown}; add them to "
                          f"ingest.eurocontrol.STATES with their ISO3 code")
    bad_name = out["country_name"].astype(str) != codes.map(lambda c: STATES[c][0])
    if bad_name.any():
        r = out[bad_name].iloc[0]
        raise IngestError(f"{name}: state code {r['country_icao_code']} is named {r['country_name']!r}, expected "
                          f"{STATES[r['country_icao_code']][0]!r}")
    dup = out.duplicated(["country_icao_code", "day"])
    if dup.any():
        r = out[dup].iloc[0]
        raise IngestError(f"{name}: duplicate row for {r['country_name']} on {r['day'].date()}")
    missing = sorted(set(STATES) - set(codes))
    if missing:
        raise IngestError(f"{name}: state(s) {missing} are missing: truncated file?")
    span = pd.date_range(out["day"].min(), out["day"].max(), freq="D")
    per_state = out.groupby("country_icao_code")["day"].agg(["min", "max", "count"])
    short = per_state[(per_state["count"] != len(span)) | (per_state["max"] != span[-1])
                      | (per_state["min"] != span[0])]
    if len(short):
        code = str(short.index[0])
        raise IngestError(f"{name}: {STATES[code][0]} covers {short.iloc[0]['min'].date()}.."
                          f"{short.iloc[0]['max'].date()} ({short.iloc[0]['count']} days) but the file covers "
                          f"{span[0].date()}..{span[-1].date()} ({len(span)} days): truncated file?")
    return out


def read_eurocontrol_daily(paths: Sequence[Path]) -> pd.DataFrame:
    """One or more ``daio_YYYY.csv[.gz]`` files -> canonical daily table (flights per day)."""
    if not paths:
        raise IngestError("no EUROCONTROL daio files given")
    frames = []
    years: set[int] = set()
    for p in paths:
        p = Path(p)
        y = year_of(p)
        if y in years:
            raise IngestError(f"{p.name}: the year {y} was given twice")
        years.add(y)
        frames.append(_check_file(_read_raw(p), p.name, y))
    df = pd.concat(frames, ignore_index=True)
    codes = df["country_icao_code"].astype(str)
    long = df.assign(iso3=codes.map(lambda c: STATES[c][1]), period=df["day"]).melt(
        id_vars=["iso3", "period"], value_vars=list(VARIABLE_OF), var_name="count", value_name="value")
    long["variable"] = long["count"].map(VARIABLE_OF)
    long = long.assign(region="", frequency="daily", unit="flights", source=SOURCE)
    name = ", ".join(Path(p).name for p in paths) if len(paths) <= 2 else f"{len(paths)} daio files"
    out = finish(long, name, source=SOURCE, max_value={v: MAX_FLIGHTS_PER_DAY for v in VARIABLE_OF.values()})
    out.attrs["groups"] = {k: list(v) for k, v in GROUPS.items()}
    return out


class EurocontrolAdapter(BaseAdapter[pd.DataFrame]):
    """EUROCONTROL daio files -> canonical daily flights table (Parquet)."""

    info = INFO

    def __init__(self, base_url: str = BASE_URL, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.base_url = base_url.rstrip("/")
        """Where ``daio_YYYY.csv`` are served: the pinned commit by default (``.../daio/main`` for the latest)."""

    def download(self, start: date, end: date) -> list[Path]:
        """``daio_YYYY.csv`` for every year from ``start`` to ``end`` (cached, retried, sha256 sidecar)."""
        from ingest.download import fetch

        if end < start:
            raise IngestError(f"end {end} is before start {start}")
        if end.year < FIRST_YEAR:
            raise IngestError(f"EUROCONTROL daio starts on {FIRST_YEAR}-01-01; nothing to download before")
        return [fetch(f"{self.base_url}/daio_{y}.csv", source=self.info.name, settings=self.settings)
                for y in range(max(start.year, FIRST_YEAR), end.year + 1)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        return read_eurocontrol_daily(paths)

    def validate(self, data: pd.DataFrame) -> None:
        finish(data, "EUROCONTROL table", source=SOURCE,
               max_value={v: MAX_FLIGHTS_PER_DAY for v in VARIABLE_OF.values()})
