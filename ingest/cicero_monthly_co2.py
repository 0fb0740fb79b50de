"""CICERO (Robbie Andrew) monthly fossil CO2 by fuel -> the canonical activity table (ingest/activity.py).

Three published layouts (robbieandrew/robbieandrew.github.io@0cf3c5b6), MtCO2 per month, told apart by
their header line:

- ``EU/data/EU27_monthly_CO2_data.csv`` (shipped as ``cicero_EU27_monthly_CO2_data.csv``):
  ``"YYYYMM","Coal","Oil","Gas","Cement"`` -> iso3 ``EU27``;
- ``EU/data/europeancountries_monthly_CO2_data.csv`` (``cicero_europeancountries_...``):
  ``"YYYYMM","ISO3","Coal (MtCO2)","Oil (MtCO2)","Gas (MtCO2)","Cement (MtCO2)"`` -> 26 countries;
- ``india/data/india_co2_emissions_data.csv`` (``cicero_india_monthly_co2_emissions_data.csv``):
  ``"yyyymm","COL.CO2","OIL.CO2","GAS.CO2","CEM.CO2"`` -> iso3 ``IND`` (units "millions of tonnes" in
  ``india_co2_emissions_metadata.json``).

European values are computed by CICERO from Eurostat's monthly energy statistics, India's from Indian
ministries' monthly statistics (GCB method).  Variables: ``co2_coal``, ``co2_oil``, ``co2_gas``,
``co2_cement`` (MtCO2).  The files run to December of the current year with the last months empty: empty
cells are dropped, never zero-filled.  Each area's months must form one run ending in December, and
every line must have all fields; otherwise the file is taken as truncated (IngestError).

``co2_total`` (sum of the fuels) is given only for months where **every fuel that the area reports at
some time** has a value.  A fuel the file never carries for an area (cement in 23 of the 26 countries) is
not part of that area's total, so a country's ``co2_total`` may be fossil fuels only; where an area's
fuel series starts later (EU27 oil 2009-01, India coal 2008-09, DEU cement 2018-07, POL cement 2014-01),
the total starts with it.  Coal values can be negative in a few country-months (BEL 2009-08/12, NLD
2014-08, 2016-09, PRT 2025-12: Eurostat stock changes); they are kept as published.

**Publication lags** (conservative): at the commit (~22 August 2026, the date in the India metadata), the
EU27 file had April 2026 but not May: ``cicero_eu_monthly_co2`` = 115 days.  India had coal and gas to
June and oil/cement to July 2026: ``cicero_india_monthly_co2`` = 55 days.

Licence: CC BY 4.0 (CICERO, Robbie Andrew); Eurostat data (reuse with attribution); Indian official data.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import finish, register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo

EU_SOURCE = "cicero_eu_monthly_co2"
INDIA_SOURCE = "cicero_india_monthly_co2"
LAG_EU = register_lag(EU_SOURCE, 115)
LAG_INDIA = register_lag(INDIA_SOURCE, 55)
RAW = "https://raw.githubusercontent.com/robbieandrew/robbieandrew.github.io/0cf3c5b6/"
EU_FILES = ("EU/data/EU27_monthly_CO2_data.csv", "EU/data/europeancountries_monthly_CO2_data.csv")
INDIA_FILES = ("india/data/india_co2_emissions_data.csv",)
DIR = "statistical/monthly-co2"

LAYOUTS: dict[str, tuple[str, str | None, dict[str, str], str | None, str]] = {
    # name: (month column, iso3 column, file column -> variable, fixed iso3, source)
    "eu27": ("YYYYMM", None, {"Coal": "co2_coal", "Oil": "co2_oil", "Gas": "co2_gas", "Cement": "co2_cement"},
             "EU27", EU_SOURCE),
    "countries": ("YYYYMM", "ISO3", {"Coal (MtCO2)": "co2_coal", "Oil (MtCO2)": "co2_oil",
                                     "Gas (MtCO2)": "co2_gas", "Cement (MtCO2)": "co2_cement"}, None, EU_SOURCE),
    "india": ("yyyymm", None, {"COL.CO2": "co2_coal", "OIL.CO2": "co2_oil", "GAS.CO2": "co2_gas",
                               "CEM.CO2": "co2_cement"}, "IND", INDIA_SOURCE),
}
FUELS = ("co2_coal", "co2_oil", "co2_gas", "co2_cement")
MAX_MONTHLY_MT = 1000.0
"""No area in these files emits more than this from one fuel in a month (India ~200, EU27 ~120): kt or t
values fail."""


def _layout(columns: list[str], name: str) -> str:
    for key, (month, iso, cols, _, _) in LAYOUTS.items():
        if columns == [month, *([iso] if iso else []), *cols]:
            return key
    raise IngestError(f"{name}: not a CICERO monthly CO2 layout (EU27, European countries or India); "
                      f"header {columns}")


def read_cicero_monthly_co2(path: Path) -> pd.DataFrame:
    """One CICERO monthly CO2 file (any of the three layouts) -> canonical table, MtCO2 per month."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"CICERO monthly CO2 file not found: {path}")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, OSError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    key = _layout(list(raw.columns), path.name)
    month_col, iso_col, cols, fixed_iso, source = LAYOUTS[key]
    with open(path, encoding="utf-8", newline="") as f:
        widths = [len(r) for r in csv.reader(f) if r]
    short = [i for i, w in enumerate(widths) if w != len(raw.columns)]
    if short:
        raise IngestError(f"{path.name}: line {short[0] + 1} has {widths[short[0]]} fields, the header "
                          f"{len(raw.columns)} (truncated file?)")
    ym = raw[month_col].str.strip()
    period = pd.to_datetime(ym, format="%Y%m", errors="coerce")
    bad_month = period.isna() | ~ym.str.fullmatch(r"\d{6}")
    if bad_month.any():
        raise IngestError(f"{path.name}: month {ym[bad_month].iloc[0]!r} is not YYYYMM")
    if iso_col is not None:
        iso = raw[iso_col].str.strip()
        bad_iso = ~iso.str.fullmatch(r"[A-Z]{3}")
        if bad_iso.any():
            raise IngestError(f"{path.name}: ISO3 {iso[bad_iso].iloc[0]!r} is not a code")
    else:
        iso = pd.Series(fixed_iso, index=raw.index)
    frame = pd.DataFrame({"iso3": iso, "period": period})
    if frame.duplicated().any():
        r = frame[frame.duplicated()].iloc[0]
        raise IngestError(f"{path.name}: month {r['period']:%Y-%m} appears twice for {r['iso3']}")
    for area, g in frame.groupby("iso3"):
        months = g["period"].sort_values()
        expected = pd.date_range(months.iloc[0], periods=len(months), freq="MS")
        if not (months.to_numpy() == expected.to_numpy()).all() or months.iloc[-1].month != 12:
            raise IngestError(f"{path.name}: the months of {area} are not one run ending in December "
                              f"({months.iloc[0]:%Y-%m}..{months.iloc[-1]:%Y-%m}); CICERO pads its files to the "
                              f"year end: truncated file?")
    for col, var in cols.items():
        text = raw[col].str.strip()
        value = pd.to_numeric(text.replace("", None), errors="coerce")
        bad = value.isna() & (text != "")
        if bad.any():
            raise IngestError(f"{path.name}: {col} {text[bad].iloc[0]!r} in {ym[bad].iloc[0]} is not a number")
        frame[var] = value
    # co2_total where every fuel the area ever reports has a value
    reported = frame.groupby("iso3")[list(FUELS)].transform(lambda s: s.notna().any())
    complete = (frame[list(FUELS)].notna() | ~reported).all(axis=1) & frame[list(FUELS)].notna().any(axis=1)
    frame["co2_total"] = frame[list(FUELS)].sum(axis=1, min_count=1).where(complete)
    long = frame.melt(id_vars=["iso3", "period"], var_name="variable", value_name="value").dropna(subset=["value"])
    long = long.assign(region="", frequency="monthly", unit="MtCO2", source=source)
    limits = {v: MAX_MONTHLY_MT for v in FUELS} | {"co2_total": 4 * MAX_MONTHLY_MT}
    out = finish(long, path.name, source=source, max_value=limits, allow_negative=("co2_coal", "co2_total"))
    out.attrs["layout"] = key
    return out


class _CiceroAdapter(BaseAdapter):
    files: tuple[str, ...] = ()

    def __init__(self, base_url: str = RAW, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.base_url = base_url.rstrip("/") + "/"

    def download(self, start: date, end: date) -> list[Path]:
        """The files at the pinned commit of robbieandrew.github.io (cached, sha256 sidecar, retried)."""
        from ingest.download import fetch

        return [fetch(self.base_url + f, source=self.info.name, settings=self.settings) for f in self.files]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if not paths:
            raise IngestError(f"no {self.info.name} files given")
        out = pd.concat([read_cicero_monthly_co2(p) for p in paths], ignore_index=True)
        self.validate(out)
        return out

    def validate(self, data: pd.DataFrame) -> None:
        limits = {v: MAX_MONTHLY_MT for v in FUELS} | {"co2_total": 4 * MAX_MONTHLY_MT}
        finish(data, self.info.name, source=self.info.name, max_value=limits,
               allow_negative=("co2_coal", "co2_total"))


class CiceroEuropeCO2Adapter(_CiceroAdapter):
    """CICERO monthly CO2 by fuel for the EU27 and 26 European countries (from Eurostat)."""

    info = SourceInfo(
        name=EU_SOURCE,
        title="CICERO monthly fossil CO2 by fuel, EU27 and European countries (from Eurostat monthly data)",
        kind="statistical",
        licence="CC-BY-4.0 (CICERO compilation); Eurostat data, reuse with attribution",
        url="https://robbieandrew.github.io/EU/",
        shipped=(f"{DIR}/cicero_EU27_monthly_CO2_data.csv", f"{DIR}/cicero_europeancountries_monthly_CO2_data.csv"),
        note="Robbie Andrew (CICERO) from Eurostat nrg_cb_*m; robbieandrew/robbieandrew.github.io@0cf3c5b6:EU/data/",
    )
    files = EU_FILES


class CiceroIndiaCO2Adapter(_CiceroAdapter):
    """CICERO monthly CO2 by fuel for India (from Indian ministries' monthly statistics)."""

    info = SourceInfo(
        name=INDIA_SOURCE,
        title="CICERO monthly fossil CO2 by fuel, India",
        kind="statistical",
        licence="CC-BY-4.0 (CICERO compilation); Indian official statistics",
        url="https://robbieandrew.github.io/india/",
        shipped=(f"{DIR}/cicero_india_monthly_co2_emissions_data.csv",),
        note="Robbie Andrew (CICERO), GCB method; robbieandrew/robbieandrew.github.io@0cf3c5b6:india/data/",
    )
    files = INDIA_FILES
