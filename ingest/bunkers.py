"""Marine bunker fuel sales: Singapore (monthly) and Rotterdam (quarterly), as compiled by CICERO.

Both files come from Robbie Andrew's international-transport page (robbieandrew.github.io@0cf3c5b6,
``internationaltransport/data/``); CICERO compiles them from the Maritime and Port Authority of
Singapore (MPA) and the Port of Rotterdam.  Values are **thousand tonnes of fuel (kt)** sold per
period (not CO2); the header line carries no unit: kt is checked by range (Singapore sells ~4,700 kt a
month, Rotterdam ~2,500 kt a quarter).

``SGP_marinebunkers_monthly_data.csv``::

    "YYYYMM","Total","Marine diesel oil","Marine gasoil","Low-S marine gasoil","Marine fuel oil",
    "Low-sulphur fuel oil","Ultra-low-S fuel oil"

1995-01 .. 2026-07.  ``Total`` includes fuels without a column (LNG, bio-blends, methanol: up to
1.8 % of Total since 2021-12), so the reader checks ``0.95 Total <= sum of columns <= Total``.
:func:`read_singapore_bunkers` -> canonical monthly table, variable ``bunker_fuel`` (kt), iso3 ``SGP``,
source ``bunkers_singapore``.

``rotterdam_bunkers_data.csv``::

    "YYYYMM","Total Fuels","LNG","Methanol","Fuel Oil","Marine gasoil","Marine diesel oil"

one row per **quarter**, ``YYYYMM`` = the quarter's last month (03, 06, 09, 12), 2010Q1 .. 2026Q1;
empty cells = fuel not sold.  ``Total Fuels`` equals the sum of the columns (checked, 0.5 %).
"quarterly" is not a canonical frequency, so :func:`read_rotterdam_bunkers` emits, iso3 ``NLD``,
region ``Rotterdam``, source ``bunkers_rotterdam``:

- ``bunker_fuel_quarter`` (kt per quarter), frequency ``monthly``, dated at the quarter's **first**
  month (2026Q1 -> 2026-01-01): one row per quarter, never spread over months;
- ``bunker_fuel`` (kt per year), frequency ``yearly``, only for years with all four quarters.

The last quarter of the shipped file (2026Q1, 1,814 kt against ~2,450 kt a quarter in 2024-2025) may be
incomplete or revised later; nothing in the file says so.

Publication lags (conservative): Singapore's MPA publishes a month ~45 days after it ends
(:data:`LAG_SINGAPORE`).  Rotterdam publishes a quarter ~60 days after it ends; because its rows are
dated at the quarter's first month, whose end is up to 61 days before the quarter's end, the lag
registered for ``bunkers_rotterdam`` is 61 + 60 = :data:`LAG_ROTTERDAM` = 121 days (for the yearly rows
this is 61 days more than needed: conservative).
"""

from __future__ import annotations

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
BASE_URL = f"https://raw.githubusercontent.com/robbieandrew/robbieandrew.github.io/{COMMIT}/internationaltransport/data"
DIR = "activity/transport"
SGP_FILE = "SGP_marinebunkers_monthly_data.csv"
RTM_FILE = "rotterdam_bunkers_data.csv"
SGP_SOURCE = "bunkers_singapore"
RTM_SOURCE = "bunkers_rotterdam"
LAG_SINGAPORE = register_lag(SGP_SOURCE, 45)
LAG_ROTTERDAM = register_lag(RTM_SOURCE, 61 + 60)
UNIT = "kt"
SGP_COLUMNS = ("YYYYMM", "Total", "Marine diesel oil", "Marine gasoil", "Low-S marine gasoil", "Marine fuel oil",
               "Low-sulphur fuel oil", "Ultra-low-S fuel oil")
RTM_COLUMNS = ("YYYYMM", "Total Fuels", "LNG", "Methanol", "Fuel Oil", "Marine gasoil", "Marine diesel oil")
MAX_MONTH_KT = 10_000.0
"""No port sells more than this in a month (Singapore's record ~5,500 kt); more means tonnes, not kt."""
MAX_QUARTER_KT = 3 * MAX_MONTH_KT
MIN_TOTAL_KT = 100.0
"""Both ports sell far more than this per period (Singapore's lowest month ~1,190 kt); less means Mt."""
ROTTERDAM_REGION = "Rotterdam"

_LICENCE = "CC BY 4.0 (CICERO compilation, Robbie Andrew); MPA Singapore and Port of Rotterdam statistics"
INFO_SINGAPORE = SourceInfo(
    name=SGP_SOURCE,
    title="Singapore monthly marine bunker sales (MPA, compiled by CICERO)",
    kind="activity",
    licence=_LICENCE,
    url="https://robbieandrew.github.io/internationaltransport/",
    shipped=(f"{DIR}/{SGP_FILE}",),
    note="kt of fuel per month, 1995-01..2026-07",
)
INFO_ROTTERDAM = SourceInfo(
    name=RTM_SOURCE,
    title="Port of Rotterdam quarterly marine bunker sales (compiled by CICERO)",
    kind="activity",
    licence=_LICENCE,
    url="https://robbieandrew.github.io/internationaltransport/",
    shipped=(f"{DIR}/{RTM_FILE}",),
    note="kt of fuel per quarter (dated at the quarter's first month) and per full year, 2010Q1..2026Q1",
)


def _read_csv(path: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{what} file not found: {path}")
    try:
        raw = pd.read_csv(path, dtype={"YYYYMM": "string"})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    if tuple(raw.columns) != columns:
        raise IngestError(f"{path.name}: expected the {what} columns {list(columns)}, found {list(raw.columns)}")
    if raw.empty:
        raise IngestError(f"{path.name}: no rows")
    for col in columns[1:]:
        num = pd.to_numeric(raw[col], errors="coerce")
        bad = (num.isna() & raw[col].notna()) | (num < 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise IngestError(f"{path.name}: {col!r} has {raw[col].iloc[i]!r} in row {i + 2}; expected kt >= 0")
        raw[col] = num.astype(np.float64)
    total = raw[columns[1]]
    if total.isna().any():
        i = int(np.flatnonzero(total.isna().to_numpy())[0])
        raise IngestError(f"{path.name}: row {i + 2} has no {columns[1]!r} (truncated file?)")
    month = pd.to_datetime(raw["YYYYMM"].str.strip(), format="%Y%m", errors="coerce")
    if month.isna().any():
        i = int(np.flatnonzero(month.isna().to_numpy())[0])
        raise IngestError(f"{path.name}: YYYYMM {raw['YYYYMM'].iloc[i]!r} in row {i + 2} is not a month")
    if month.duplicated().any():
        raise IngestError(f"{path.name}: duplicate month {month[month.duplicated()].iloc[0]:%Y-%m}")
    raw["month"] = month
    return raw


def _range(total: pd.Series, month: pd.Series, name: str, limit: float) -> None:
    low, high = total < MIN_TOTAL_KT, total > limit
    if (low | high).any():
        i = int(np.flatnonzero((low | high).to_numpy())[0])
        raise IngestError(f"{name}: total {total.iloc[i]:g} for {month.iloc[i]:%Y-%m} is outside "
                          f"{MIN_TOTAL_KT:g}..{limit:g} kt: wrong units (tonnes or Mt instead of kt)?")


def read_singapore_bunkers(path: Path) -> pd.DataFrame:
    """Singapore's monthly bunker sales -> canonical monthly table, ``bunker_fuel`` in kt per month."""
    path = Path(path)
    raw = _read_csv(path, SGP_COLUMNS, "Singapore bunkers")
    total = raw["Total"]
    _range(total, raw["month"], path.name, MAX_MONTH_KT)
    parts = raw[list(SGP_COLUMNS[2:])].fillna(0.0).sum(axis=1)
    bad = (parts > total + 0.01) | (parts < 0.95 * total)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise IngestError(f"{path.name}: {raw['month'].iloc[i]:%Y-%m}: the fuels add up to {parts.iloc[i]:g} kt "
                          f"but Total is {total.iloc[i]:g} kt; columns shifted?")
    df = pd.DataFrame({"iso3": "SGP", "region": "", "period": raw["month"], "frequency": "monthly",
                       "variable": "bunker_fuel", "value": total, "unit": UNIT, "source": SGP_SOURCE})
    return finish(df, path.name, source=SGP_SOURCE, max_value={"bunker_fuel": MAX_MONTH_KT})


def read_rotterdam_bunkers(path: Path) -> pd.DataFrame:
    """Rotterdam's quarterly bunker sales -> canonical table: ``bunker_fuel_quarter`` (kt per quarter, at the
    quarter's first month, frequency monthly) and ``bunker_fuel`` (kt per year, full years only)."""
    path = Path(path)
    raw = _read_csv(path, RTM_COLUMNS, "Rotterdam bunkers")
    month = raw["month"]
    if (month.dt.month % 3 != 0).any():
        i = int(np.flatnonzero((month.dt.month % 3 != 0).to_numpy())[0])
        raise IngestError(f"{path.name}: YYYYMM {raw['YYYYMM'].iloc[i]} (row {i + 2}) is not a quarter's last "
                          f"month (03, 06, 09, 12)")
    total = raw["Total Fuels"]
    _range(total, month, path.name, MAX_QUARTER_KT)
    parts = raw[list(RTM_COLUMNS[2:])].fillna(0.0).sum(axis=1)
    bad = (parts - total).abs() > 0.005 * total + 0.01
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise IngestError(f"{path.name}: {month.iloc[i]:%Y-%m}: the fuels add up to {parts.iloc[i]:g} kt but "
                          f"Total Fuels is {total.iloc[i]:g} kt; columns shifted?")
    first = month - pd.DateOffset(months=2)
    quarters = pd.DataFrame({"iso3": "NLD", "region": ROTTERDAM_REGION, "period": first, "frequency": "monthly",
                             "variable": "bunker_fuel_quarter", "value": total, "unit": UNIT,
                             "source": RTM_SOURCE})
    by_year = raw.groupby(month.dt.year)["Total Fuels"].agg(["sum", "count"])
    full = by_year[by_year["count"] == 4]
    years = pd.DataFrame({"iso3": "NLD", "region": ROTTERDAM_REGION,
                          "period": pd.to_datetime([f"{y}-01-01" for y in full.index]), "frequency": "yearly",
                          "variable": "bunker_fuel", "value": full["sum"].to_numpy(), "unit": UNIT,
                          "source": RTM_SOURCE})
    out = finish(pd.concat([quarters, years], ignore_index=True), path.name, source=RTM_SOURCE,
                 max_value={"bunker_fuel_quarter": MAX_QUARTER_KT, "bunker_fuel": 4 * MAX_QUARTER_KT})
    out.attrs["quarter_dating"] = "bunker_fuel_quarter rows are dated at the quarter's first month"
    return out


class _BunkersAdapter(BaseAdapter[pd.DataFrame]):
    file: str

    def __init__(self, base_url: str = BASE_URL, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.base_url = base_url.rstrip("/")

    def download(self, start: date, end: date) -> list[Path]:
        """The whole series (one file for all periods; cached, retried, sha256 sidecar)."""
        from ingest.download import fetch

        return [fetch(f"{self.base_url}/{self.file}", source=self.info.name, settings=self.settings)]

    def _one(self, paths: Sequence[Path]) -> Path:
        if len(paths) != 1:
            raise IngestError(f"{self.info.name} reads exactly one file ({self.file}), got {len(paths)}")
        return Path(paths[0])


class SingaporeBunkersAdapter(_BunkersAdapter):
    """``SGP_marinebunkers_monthly_data.csv`` -> canonical monthly ``bunker_fuel`` (kt)."""

    info = INFO_SINGAPORE
    file = SGP_FILE

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        return read_singapore_bunkers(self._one(paths))

    def validate(self, data: pd.DataFrame) -> None:
        finish(data, "Singapore bunkers table", source=SGP_SOURCE, max_value={"bunker_fuel": MAX_MONTH_KT})


class RotterdamBunkersAdapter(_BunkersAdapter):
    """``rotterdam_bunkers_data.csv`` -> canonical ``bunker_fuel_quarter`` and yearly ``bunker_fuel`` (kt)."""

    info = INFO_ROTTERDAM
    file = RTM_FILE

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        return read_rotterdam_bunkers(self._one(paths))

    def validate(self, data: pd.DataFrame) -> None:
        finish(data, "Rotterdam bunkers table", source=RTM_SOURCE,
               max_value={"bunker_fuel_quarter": MAX_QUARTER_KT, "bunker_fuel": 4 * MAX_QUARTER_KT})
