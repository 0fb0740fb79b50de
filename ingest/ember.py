"""Ember electricity generation by fuel (monthly and yearly CSV) -> one long table.

Layouts read:

- **Ember's published long format** (``monthly_full_release_long_format.csv``, and the yearly
  ``yearly_full_release_long_format.csv`` with ``Year`` instead of ``Date``): columns ``Area``,
  ``ISO 3 code``, ``Date`` (``YYYY-MM-DD``, first of the month), ``Area type``, ``Continent``,
  ``Ember region``, ``EU``, ``OECD``, ``G20``, ``G7``, ``ASEAN``, ``Category``, ``Subcategory``,
  ``Variable``, ``Unit``, ``Value``, ``YoY absolute change``, ``YoY % change``.  Kept: ``Category ==
  "Electricity generation"``, ``Subcategory == "Fuel"``, ``Unit == "TWh"`` (shares in ``%`` and the
  aggregates are dropped).  :func:`read_ember_long`.
- **CREA monthly** (energyandcleanair/creaco2tracker): ``date, iso2, source, value_mwh``;
  sources ``Bioenergy, Coal, Gas, Hydro, Net imports, Nuclear, Other fossil, Other renewables, Solar,
  Wind`` (``Net imports`` is not generation and is dropped).  :func:`read_crea_monthly`.
- **CREA yearly EU** (``crea_ember-eu-generation.csv``): ``country_or_region, year, variable,
  generation_twh`` with the aggregates ``Clean``, ``Fossil``, ``Wind and solar`` (checked, then dropped).
  :func:`read_crea_yearly`.

Output of every reader: ``area, period, frequency, fuel, generation_mwh`` where ``area`` is the code
the file uses (ISO 3166 alpha-3 in Ember's file, alpha-2 in CREA's monthly, the region name in CREA's
yearly), ``period`` the first day of the month/year, ``frequency`` ``monthly`` or ``yearly`` and
``fuel`` one of :data:`FUELS` (MWh per period).  Fossil fuels: :data:`FOSSIL_FUELS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.base import BaseAdapter, IngestError, SourceInfo, need_columns, read_csv_checked

FUELS = ("bioenergy", "coal", "gas", "hydro", "nuclear", "other_fossil", "other_renewables", "solar", "wind")
FOSSIL_FUELS = ("coal", "gas", "other_fossil")
_FUEL_NAMES = {
    "Bioenergy": "bioenergy", "Coal": "coal", "Gas": "gas", "Hydro": "hydro", "Nuclear": "nuclear",
    "Other Fossil": "other_fossil", "Other fossil": "other_fossil", "Other Renewables": "other_renewables",
    "Other renewables": "other_renewables", "Solar": "solar", "Wind": "wind",
}
_AGGREGATES = {"Clean": ("bioenergy", "hydro", "nuclear", "other_renewables", "solar", "wind"),
               "Fossil": FOSSIL_FUELS, "Wind and solar": ("solar", "wind")}
MWH_PER_TWH = 1.0e6
MAX_MONTHLY_TWH = 1500.0
"""No area (not even the World) generates more than this from one fuel in a month, TWh."""

MONTHLY_URL = ("https://storage.googleapis.com/emb-prod-bkt-publicdata/public-downloads/"
               "monthly_full_release_long_format.csv")
YEARLY_URL = ("https://storage.googleapis.com/emb-prod-bkt-publicdata/public-downloads/"
              "yearly_full_release_long_format.csv")
LONG_COLUMNS = ("Area", "ISO 3 code", "Category", "Subcategory", "Variable", "Unit", "Value")

INFO = SourceInfo(
    name="ember",
    title="Ember electricity generation by fuel (monthly / yearly)",
    kind="statistical",
    licence="CC-BY-4.0 (Ember data; CREA's extracts CC BY-SA 4.0 / repo GPL-3)",
    url="https://ember-energy.org/data/monthly-electricity-data/",
    shipped=("electricity/crea_fixture_ember_power_generation_de_monthly_2023-01.csv",
             "electricity/crea_ember-eu-generation.csv"),
    note="ships CREA's DE monthly example (1 month) and Europe yearly 2000-2022; full file via --download",
)


def _read(path: Path) -> pd.DataFrame:
    return read_csv_checked(path, "Ember")


_need = need_columns


def _finish(df: pd.DataFrame, name: str, frequency: str) -> pd.DataFrame:
    if df.empty:
        raise IngestError(f"{name}: no generation-by-fuel rows")
    if df["generation_mwh"].isna().any():
        raise IngestError(f"{name}: non-numeric generation values")
    limit = MAX_MONTHLY_TWH * MWH_PER_TWH * (12 if frequency == "yearly" else 1)
    if (df["generation_mwh"] < 0).any() or (df["generation_mwh"] > limit).any():
        raise IngestError(f"{name}: generation must lie in 0..{limit / MWH_PER_TWH:g} TWh per period, found "
                          f"{df['generation_mwh'].min() / MWH_PER_TWH:g}..{df['generation_mwh'].max() / MWH_PER_TWH:g}"
                          f" TWh — wrong units?")
    key = ["area", "period", "fuel"]
    if df.duplicated(key).any():
        r = df[df.duplicated(key)].iloc[0]
        raise IngestError(f"{name}: duplicate date {r['period'].date()} for {r['area']} {r['fuel']}")
    df = df.assign(frequency=frequency)[["area", "period", "frequency", "fuel", "generation_mwh"]]
    out = df.sort_values(key).reset_index(drop=True)
    out.attrs.update({"units": "generation_mwh: MWh per period", "source_file": name})
    return out


def _fuels(names: pd.Series, name: str) -> pd.Series:
    unknown = sorted(set(names) - set(_FUEL_NAMES))
    if unknown:
        raise IngestError(f"{name}: unknown fuel(s) {unknown}")
    return names.map(_FUEL_NAMES)


def read_ember_long(path: Path) -> pd.DataFrame:
    """Ember's monthly or yearly long-format release (generation by fuel in TWh) -> canonical table."""
    path = Path(path)
    raw = _read(path)
    _need(raw, LONG_COLUMNS, path.name)
    if "Date" in raw.columns:
        period = pd.to_datetime(raw["Date"], format="%Y-%m-%d", errors="coerce")
        frequency = "monthly"
    elif "Year" in raw.columns:
        period = pd.to_datetime(raw["Year"].astype("Int64").astype(str) + "-01-01", errors="coerce")
        frequency = "yearly"
    else:
        raise IngestError(f"{path.name} has neither a Date (monthly) nor a Year (yearly) column")
    sel = (raw["Category"] == "Electricity generation") & (raw["Subcategory"] == "Fuel")
    if not sel.any():
        raise IngestError(f"{path.name}: no 'Electricity generation' / 'Fuel' rows")
    gen = raw[sel & (raw["Unit"] == "TWh")]
    if gen.empty:
        raise IngestError(f"{path.name}: generation rows are in {sorted(raw.loc[sel, 'Unit'].unique())}, expected TWh")
    if period[gen.index].isna().any():
        raise IngestError(f"{path.name}: unparseable Date/Year in the generation rows")
    if frequency == "monthly" and (period[gen.index].dt.day != 1).any():
        raise IngestError(f"{path.name}: monthly Date must be the first of the month")
    area = gen["ISO 3 code"].where(gen["ISO 3 code"].notna(), gen["Area"]).astype(str)
    df = pd.DataFrame({"area": area, "period": period[gen.index], "fuel": _fuels(gen["Variable"], path.name),
                       "generation_mwh": pd.to_numeric(gen["Value"], errors="coerce") * MWH_PER_TWH})
    df = df.dropna(subset=["generation_mwh"])  # Ember leaves not-yet-reported months empty
    return _finish(df, path.name, frequency)


def read_crea_monthly(path: Path) -> pd.DataFrame:
    """CREA's monthly Ember extract ``date, iso2, source, value_mwh`` -> canonical table (MWh per month)."""
    path = Path(path)
    raw = _read(path)
    _need(raw, ("date", "iso2", "source", "value_mwh"), path.name)
    period = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    if period.isna().any() or (period.dt.day != 1).any():
        raise IngestError(f"{path.name}: date must be the first of a month as YYYY-MM-DD")
    gen = raw["source"] != "Net imports"
    df = pd.DataFrame({"area": raw.loc[gen, "iso2"].astype(str), "period": period[gen],
                       "fuel": _fuels(raw.loc[gen, "source"], path.name),
                       "generation_mwh": pd.to_numeric(raw.loc[gen, "value_mwh"], errors="coerce")})
    return _finish(df, path.name, "monthly")


def read_crea_yearly(path: Path) -> pd.DataFrame:
    """CREA's yearly Ember extract (TWh, with aggregate variables) -> canonical table (MWh per year)."""
    path = Path(path)
    raw = _read(path)
    _need(raw, ("country_or_region", "year", "variable", "generation_twh"), path.name)
    year = pd.to_numeric(raw["year"], errors="coerce")
    if year.isna().any() or not year.between(1900, 2100).all():
        raise IngestError(f"{path.name}: year must be a 4-digit year")
    twh = pd.to_numeric(raw["generation_twh"], errors="coerce")
    agg = raw["variable"].isin(list(_AGGREGATES))
    df = pd.DataFrame({"area": raw.loc[~agg, "country_or_region"].astype(str),
                       "period": pd.to_datetime(year[~agg].astype(int).astype(str) + "-01-01"),
                       "fuel": _fuels(raw.loc[~agg, "variable"], path.name),
                       "generation_mwh": twh[~agg] * MWH_PER_TWH})
    out = _finish(df, path.name, "yearly")
    # the published aggregates must equal the sum of their fuels (a check that the fuels were read right)
    wide = out.pivot_table(index=["area", "period"], columns="fuel", values="generation_mwh", aggfunc="sum")
    for name, parts in _AGGREGATES.items():
        rows = raw[raw["variable"] == name]
        if rows.empty:
            continue
        ref = pd.Series((twh[rows.index] * MWH_PER_TWH).to_numpy(),
                        index=pd.MultiIndex.from_arrays([rows["country_or_region"].astype(str),
                                                         pd.to_datetime(year[rows.index].astype(int).astype(str) + "-01-01")]))
        ours = wide.reindex(columns=list(parts)).sum(axis=1).reindex(ref.index)
        if not np.allclose(ours.to_numpy(), ref.to_numpy(), rtol=0.01, atol=0.05 * MWH_PER_TWH):
            raise IngestError(f"{path.name}: the fuels do not add up to the published {name!r} aggregate")
    return out


def read_ember(path: Path) -> pd.DataFrame:
    """Any of the three layouts, told apart by their header line."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"Ember file not found: {path}")
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        head = f.readline()
    if "ISO 3 code" in head:
        return read_ember_long(path)
    if "value_mwh" in head:
        return read_crea_monthly(path)
    if "generation_twh" in head:
        return read_crea_yearly(path)
    raise IngestError(f"{path.name}: not an Ember layout (long-format release, CREA monthly or CREA yearly); "
                      f"header {head.strip()[:120]!r}")


def fossil_generation(table: pd.DataFrame) -> pd.DataFrame:
    """``area, period, frequency, fossil_mwh`` (coal + gas + other fossil)."""
    f = table[table["fuel"].isin(FOSSIL_FUELS)]
    return f.groupby(["area", "period", "frequency"], sort=True)["generation_mwh"].sum().rename(
        "fossil_mwh").reset_index()


class EmberAdapter(BaseAdapter[pd.DataFrame]):
    """Ember generation by fuel (any layout) -> ``area, period, frequency, fuel, generation_mwh`` (Parquet)."""

    info = INFO

    def download(self, start: date, end: date) -> list[Path]:
        """Ember's current monthly release (one file for all periods; cached, retried)."""
        from ingest.download import fetch

        return [fetch(MONTHLY_URL, source=self.info.name, settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if not paths:
            raise IngestError("no Ember files given")
        out = pd.concat([read_ember(p) for p in paths], ignore_index=True)
        self.validate(out)
        return out

    def validate(self, data: pd.DataFrame) -> None:
        need = {"area", "period", "frequency", "fuel", "generation_mwh"}
        if not need <= set(data.columns):
            raise IngestError(f"Ember table lacks {sorted(need - set(data.columns))}")
        key = ["area", "period", "frequency", "fuel"]
        if data.duplicated(key).any():
            r = data[data.duplicated(key)].iloc[0]
            raise IngestError(f"Ember: duplicate date {r['period'].date()} for {r['area']} {r['fuel']} "
                              f"(overlapping files?)")
