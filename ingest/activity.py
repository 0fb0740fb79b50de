"""The canonical long table of every activity and monthly-statistics source, and its validator.

Every time-series adapter added for issue #15 (power generation by fuel, daily grid reports, industrial
output, fuel sales, flights, monthly CO2 by fuel, national sector inventories, projections) returns one
table with the columns :data:`COLUMNS`:

- ``iso3``: ISO 3166-1 alpha-3 country code; ``EU27`` for the European Union aggregate, ``WLD`` for the
  world, ``XIA``/``XIS`` for international aviation/shipping bunkers;
- ``region``: sub-national unit (ISO 3166-2 code where known, else the source's own name); ``""`` = the
  whole country;
- ``period``: ``pandas.Timestamp``: the day (daily), the first day of the month (monthly) or 1 January
  (yearly);
- ``frequency``: ``daily``, ``monthly`` or ``yearly``;
- ``variable``: what was measured, from :data:`VARIABLES` (e.g. ``generation_coal``, ``crude_steel``,
  ``co2_oil``);
- ``value``: float, in ``unit``;
- ``unit``: e.g. ``TWh``, ``GWh``, ``Mt``, ``kt``, ``MtCO2``, ``flights``, ``gCO2/kWh``;
- ``source``: the adapter's short name (``SourceInfo.name``).

:func:`finish` validates and sorts such a table (it raises :class:`~ingest.base.IngestError` naming the
file and the first bad row) and records the units in ``attrs``. :data:`PUBLICATION_LAG_DAYS` says how long
after the end of a period each source publishes it: backtests that pretend to stand on a past date use
only values with ``period end + lag <= that date`` (:func:`published_by`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ingest.base import IngestError

COLUMNS = ("iso3", "region", "period", "frequency", "variable", "value", "unit", "source")
FREQUENCIES = ("daily", "monthly", "yearly")

VARIABLES: dict[str, str] = {
    # electricity
    "generation_coal": "electricity generated from coal (incl. lignite)",
    "generation_gas": "electricity generated from natural gas",
    "generation_oil": "electricity generated from oil",
    "generation_other_fossil": "electricity generated from other fossil fuels",
    "generation_fossil": "electricity generated from all fossil fuels",
    "generation_nuclear": "nuclear generation",
    "generation_hydro": "hydro generation",
    "generation_wind": "wind generation",
    "generation_solar": "solar generation",
    "generation_bioenergy": "bioenergy generation",
    "generation_other_renewables": "other renewable generation",
    "generation_geothermal": "geothermal generation (Ember Türkiye provinces)",
    "generation_other": "other generation",
    "generation_renewables": "all renewable generation",
    "generation_thermal": "thermal generation (coal, lignite, gas, oil; as the source defines it)",
    "generation_total": "total generation",
    "demand": "electricity demand (energy met)",
    "power_co2_intensity": "power-sector CO2 intensity of generation",
    "power_co2": "power-sector CO2 emissions",
    # industry
    "crude_steel": "crude steel output",
    "pig_iron": "pig iron output",
    "cement": "cement output",
    "crude_processing": "crude oil processed in refineries",
    "raw_coal": "raw coal output",
    # fuels and transport
    "diesel": "diesel (HSD) consumption",
    "petrol": "motor gasoline consumption",
    "jet_fuel": "aviation turbine fuel consumption",
    "lpg": "LPG consumption",
    "natural_gas": "natural gas consumption",
    "coal_consumption": "coal consumption",
    "coal_consumption_power": "coal consumed at (utility) power stations",
    "flights": "IFR flights (departures + arrivals + internal + overflights as the source counts them)",
    "flights_departures": "IFR departures",
    "flights_arrivals": "IFR arrivals",
    "flights_internal": "IFR flights within the state",
    "bunker_fuel": "marine bunker fuel sales",
    "bunker_fuel_quarter": "marine bunker fuel sales of a whole quarter, dated at the quarter's first month",
    "passengers": "airport passengers",
    # CO2 by fuel and sector
    "co2_coal": "fossil CO2 from coal",
    "co2_oil": "fossil CO2 from oil",
    "co2_gas": "fossil CO2 from natural gas",
    "co2_cement": "CO2 from cement (process)",
    "co2_flaring": "CO2 from gas flaring",
    "co2_other": "other fossil CO2",
    "co2_total": "fossil CO2, all fuels",
    "co2_power": "fossil CO2 of the power sector",
    "co2_industry": "fossil CO2 of industry (combustion and process)",
    "co2_ground_transport": "fossil CO2 of road, rail and inland transport",
    "co2_residential": "fossil CO2 of buildings (residential and commercial)",
    "co2_domestic_aviation": "fossil CO2 of domestic aviation",
    "co2_international_aviation": "fossil CO2 of international aviation",
    "co2_international_shipping": "fossil CO2 of international shipping",
    "co2_other_sectors": "fossil CO2 of other sectors (agriculture, fishing, energy industries other than power)",
    "co2_total_projection": "a published projection of fossil CO2, all fuels",
    "co2_coal_power": "CO2 from coal burnt in power plants (coal only)",
    "co2_coal_heat": "CO2 from coal burnt in heat plants / district heating (coal only)",
    "co2_coal_industry": "CO2 from coal burnt in industry (coal only; no process CO2)",
    "co2_coal_other_sectors": "CO2 from coal burnt outside power, heat and industry (coal only)",
    "co2_gas_power": "CO2 from natural gas burnt in power plants",
}
"""The vocabulary of ``variable``; a source with a new kind of measurement adds it here."""

PUBLICATION_LAG_DAYS: dict[str, int] = {}
"""Source name -> days after the end of a period until that period's value is published (conservative).
Adapters register their lag with :func:`register_lag` at import."""


def register_lag(source: str, days: int) -> int:
    """Record that ``source`` publishes a period ``days`` days after it ends; returns ``days``."""
    if days < 0:
        raise ValueError("a publication lag is >= 0 days")
    PUBLICATION_LAG_DAYS[source] = int(days)
    return int(days)


def period_end(period: pd.Series, frequency: pd.Series) -> pd.Series:
    """Last day of each period, as Timestamps."""
    p = pd.to_datetime(period)
    out = p.copy()
    m = frequency == "monthly"
    y = frequency == "yearly"
    out[m] = p[m] + pd.offsets.MonthEnd(0)
    out[y] = p[y] + pd.offsets.YearEnd(0)
    return out


def published_by(table: pd.DataFrame, as_of: pd.Timestamp | str, lag_days: int | None = None) -> pd.DataFrame:
    """Rows of ``table`` that had been published by ``as_of`` (period end + the source's lag <= as_of).

    ``lag_days`` overrides the lag of the table's ``source`` (from :data:`PUBLICATION_LAG_DAYS`)."""
    if table.empty:
        return table
    as_of = pd.Timestamp(as_of)
    if lag_days is None:
        lags = table["source"].map(PUBLICATION_LAG_DAYS)
        if lags.isna().any():
            missing = sorted(table.loc[lags.isna(), "source"].unique())
            raise IngestError(f"no publication lag recorded for source(s) {missing}; call register_lag")
        lag = pd.to_timedelta(lags.astype(int), unit="D")
    else:
        lag = pd.Timedelta(days=int(lag_days))
    keep = period_end(table["period"], table["frequency"]) + lag <= as_of
    return table.loc[keep.to_numpy()]


def finish(df: pd.DataFrame, name: str, *, source: str, max_value: dict[str, float] | None = None,
           allow_negative: Iterable[str] = ()) -> pd.DataFrame:
    """Validate and sort a canonical activity table; ``name`` (the file name) is used in messages.

    Checks: the columns, ``frequency`` and ``variable`` in their vocabularies, periods that are real dates
    aligned to their frequency, finite values, no negatives (except variables in ``allow_negative``), values
    under ``max_value[variable]`` (a units check), and no duplicate (iso3, region, period, frequency, variable).
    Rows whose value is missing are dropped (sources leave months empty), never turned into zeros.
    """
    df = df.copy()
    if "region" not in df.columns:
        df["region"] = ""
    if "source" not in df.columns:
        df["source"] = source
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise IngestError(f"{name}: canonical table lacks {missing}")
    df = df[list(COLUMNS)]
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    df = df[df["value"].notna()]
    if df.empty:
        raise IngestError(f"{name}: no values")
    bad_freq = sorted(set(df["frequency"]) - set(FREQUENCIES))
    if bad_freq:
        raise IngestError(f"{name}: unknown frequency {bad_freq}; use one of {FREQUENCIES}")
    bad_var = sorted(set(df["variable"]) - set(VARIABLES))
    if bad_var:
        raise IngestError(f"{name}: unknown variable(s) {bad_var}; add them to ingest.activity.VARIABLES")
    period = pd.to_datetime(df["period"], errors="coerce")
    if period.isna().any():
        raise IngestError(f"{name}: {int(period.isna().sum())} row(s) without a valid date")
    df["period"] = period
    mis = ((df["frequency"] == "monthly") & (period.dt.day != 1)) | (
        (df["frequency"] == "yearly") & ((period.dt.day != 1) | (period.dt.month != 1)))
    if mis.any():
        r = df[mis].iloc[0]
        raise IngestError(f"{name}: period {r['period'].date()} is not the start of its {r['frequency']} period")
    if not np.isfinite(df["value"].to_numpy(np.float64)).all():
        raise IngestError(f"{name}: non-finite values")
    neg = (df["value"] < 0) & ~df["variable"].isin(list(allow_negative))
    if neg.any():
        r = df[neg].iloc[0]
        raise IngestError(f"{name}: negative {r['variable']} {r['value']} for {r['iso3']} {r['period'].date()}")
    for var, limit in (max_value or {}).items():
        over = (df["variable"] == var) & (df["value"] > limit)
        if over.any():
            r = df[over].iloc[0]
            raise IngestError(f"{name}: {var} {r['value']:g} {r['unit']} for {r['iso3']} {r['period'].date()} "
                              f"exceeds {limit:g}: wrong units?")
    key = ["iso3", "region", "period", "frequency", "variable"]
    dup = df.duplicated(key)
    if dup.any():
        r = df[dup].iloc[0]
        raise IngestError(f"{name}: duplicate {r['variable']} for {r['iso3']} {r['region']!s} "
                          f"{r['period'].date()}")
    out = df.sort_values(key).reset_index(drop=True)
    out["value"] = out["value"].astype(np.float64)
    out.attrs.update({"source_file": name, "source": source,
                      "units": "; ".join(f"{v}: {u}" for v, u in
                                         out.groupby("variable")["unit"].first().items())})
    return out


def check_canonical(data: pd.DataFrame, name: str) -> None:
    """IngestError unless ``data`` has the canonical columns and no (iso3, region, period, frequency, variable,
    source) twice (overlapping files given together)."""
    missing = sorted(set(COLUMNS) - set(data.columns))
    if missing:
        raise IngestError(f"{name} table lacks {missing}")
    key = ["iso3", "region", "period", "frequency", "variable", "source"]
    dup = data.duplicated(key)
    if dup.any():
        r = data[dup].iloc[0]
        raise IngestError(f"{name}: duplicate {r['variable']} for {r['iso3']} {r['region']} {r['period'].date()} "
                          f"(overlapping files?)")
