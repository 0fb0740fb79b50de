"""Ember data API tables: country demand and power CO2 intensity; US and India states monthly.

The tables are the CSV exports of Ember's data API (ember-climate/ember-data-api ``data/``; served by
Datasette at https://ember-data-api-scg3n.ondigitalocean.app/ember), licence CC BY 4.0
(``ember_data_api_metadata_licence.json``).  Layouts, told apart by their header:

- ``api_country_overview_monthly.csv`` / ``api_country_overview_yearly.csv``: ``country_or_region,
  country_code, date`` (or ``year``), ``demand_twh, [demand_mwh_per_capita,]
  emissions_intensity_gco2_per_kwh`` and descriptive columns.  -> ``demand`` (TWh per period) and
  ``power_co2_intensity`` (gCO2/kWh), sources ``ember_monthly`` / ``ember_yearly``.  Rows with an ISO3
  ``country_code`` are kept; of the aggregates ``World`` -> ``WLD`` and ``EU`` (EU-27) -> ``EU27`` are
  kept, the others (ASEAN, Africa, Asia, Europe, G20, G7, Latin America and Caribbean, Middle East,
  North America, Oceania, OECD) are dropped.  The files carry no generation or emissions column, so
  nothing else is produced.  Ember's intensity is per kWh *generated*: demand x intensity approximates
  power-sector CO2 (it is off by the CO2 of net imports), it is not a published value and is not derived here.
- ``api_overview_usa_monthly.csv`` / ``api_overview_ind_monthly.csv``: ``country, state, date,
  demand_gwh, emissions_ktco2, emissions_intensity_gco2_per_kwh``.  **Ember's ``demand_gwh`` here is
  the state's generation, not its consumption**: it equals the sum of the state's generation by fuel
  in every India state-month with generation (2,698 rows), its yearly sums match the US states' yearly
  generation table (median ratio 1.000), Delhi gets 4.2 TWh in 2023 (its energy met in the POSOCO
  reports: 34.7 TWh) and Chhattisgarh 163 TWh; and emissions = demand_gwh x intensity.  So it is read
  as ``generation_total`` (TWh), with ``power_co2`` (MtCO2, from ktCO2) and ``power_co2_intensity``.
- ``api_generation_ind_monthly.csv`` (and the ``api_generation_usa_yearly.csv`` layout with ``year``):
  ``country, state, date, variable, generation_gwh, share_of_generation_pct, [capacity_mw,]
  emissions_ktco2, share_of_emissions_pct`` -> ``generation_<fuel>`` in TWh for :data:`FUELS`
  (``Fossil`` and ``Renewables`` kept as generation_fossil / generation_renewables; the aggregates
  ``Clean`` and ``Wind and solar`` are checked against their parts and dropped).

States: ``region`` is the ISO 3166-2 code as in the project's Natural Earth boundaries
(:data:`US_STATES`, :data:`IN_STATES`; ISO has since revised a few Indian codes, Natural Earth has not);
``US Total`` / ``India Total`` become the national row (``region == ""``); India's ``Others``
(unallocated, to 2022-08) keeps the name ``Others``; Puerto Rico is ``US-PR`` under ``USA`` as Ember
files it (its 2016 months are 0 in the file, i.e. missing).  Sources ``ember_states_usa`` /
``ember_states_ind``.  All energy is converted to TWh and CO2 to MtCO2 so national and state rows add up.

- ``generation_tur_monthly.csv`` (Ember's Türkiye electricity data, same layout as the state generation
  table): Türkiye's 81 provinces (:data:`TR_PROVINCES`, codes ``TR-01`` .. ``TR-81``), 2018-02 .. 2022-12, no
  national row; besides ``generation_<fuel>`` it yields ``power_co2`` (MtCO2) = the emissions of coal, gas and
  other fossil (:data:`CO2_FROM_GENERATION`), source ``ember_states_tur``: the province level of Türkiye's power.

Publication lags: ``ember_monthly`` 60 days (Ember's monthly release covers most countries about two
months after the month ends; the snapshot shows the latest month varying by country), ``ember_yearly``
120 days after the year ends, ``ember_states_usa`` / ``ember_states_ind`` 150 days (in the same API
snapshot the state tables end 2-3 months before the country table: US 2025-01, India 2025-02, countries
2025-04).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from carbonmap.settings import Settings
from ingest.activity import check_canonical, finish, register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo, need_columns, read_csv_checked

SOURCE_MONTHLY, SOURCE_YEARLY = "ember_monthly", "ember_yearly"
STATE_SOURCES = {"United States": ("USA", "ember_states_usa"), "India": ("IND", "ember_states_ind"),
                 "Türkiye": ("TUR", "ember_states_tur")}
LAG_DAYS = {SOURCE_MONTHLY: register_lag(SOURCE_MONTHLY, 60), SOURCE_YEARLY: register_lag(SOURCE_YEARLY, 120),
            "ember_states_usa": register_lag("ember_states_usa", 150),
            "ember_states_ind": register_lag("ember_states_ind", 150),
            "ember_states_tur": register_lag("ember_states_tur", 150)}

COUNTRY_COLUMNS = ("country_or_region", "country_code", "demand_twh", "emissions_intensity_gco2_per_kwh")
STATE_COLUMNS = ("country", "state", "demand_gwh", "emissions_ktco2", "emissions_intensity_gco2_per_kwh")
GENERATION_COLUMNS = ("country", "state", "variable", "generation_gwh", "emissions_ktco2")
KEPT_AGGREGATES = {"World": "WLD", "EU": "EU27"}

FUELS: dict[str, str] = {
    "Bioenergy": "generation_bioenergy", "Coal": "generation_coal", "Gas": "generation_gas",
    "Hydro": "generation_hydro", "Nuclear": "generation_nuclear", "Other Fossil": "generation_other_fossil",
    "Other Renewables": "generation_other_renewables", "Solar": "generation_solar", "Wind": "generation_wind",
    "Fossil": "generation_fossil", "Renewables": "generation_renewables", "Geothermal": "generation_geothermal",
}
AGGREGATE_FUELS: dict[str, tuple[str, ...]] = {
    "Fossil": ("Coal", "Gas", "Other Fossil"),
    "Renewables": ("Bioenergy", "Hydro", "Other Renewables", "Solar", "Wind"),
    "Clean": ("Bioenergy", "Hydro", "Other Renewables", "Solar", "Wind", "Nuclear"),
    "Wind and solar": ("Wind", "Solar"),
}
DROPPED_FUELS = ("Clean", "Wind and solar")

US_STATES: dict[str, str] = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
    "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID",
    "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
    "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Puerto Rico": "PR", "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "Washington, D.C.": "DC", "District of Columbia": "DC", "West Virginia": "WV", "Wisconsin": "WI",
    "Wyoming": "WY",
}
IN_STATES: dict[str, str] = {
    "Andaman and Nicobar": "AN", "Andhra Pradesh": "AP", "Arunachal Pradesh": "AR", "Assam": "AS",
    "Bihar": "BR", "Chandigarh": "CH", "Chhattisgarh": "CT", "Dadra and Nagar Haveli and Daman and Diu": "DH",
    "Delhi": "DL", "Goa": "GA", "Gujarat": "GJ", "Haryana": "HR", "Himachal Pradesh": "HP",
    "Jammu and Kashmir": "JK", "Jharkhand": "JH", "Karnataka": "KA", "Kerala": "KL", "Ladakh": "LA",
    "Lakshadweep": "LD", "Madhya Pradesh": "MP", "Maharashtra": "MH", "Manipur": "MN", "Meghalaya": "ML",
    "Mizoram": "MZ", "Nagaland": "NL", "Odisha": "OR", "Puducherry": "PY", "Punjab": "PB", "Rajasthan": "RJ",
    "Sikkim": "SK", "Tamil Nadu": "TN", "Telangana": "TG", "Tripura": "TR", "Uttar Pradesh": "UP",
    "Uttarakhand": "UT", "West Bengal": "WB",
}
TR_PROVINCES: dict[str, str] = {
    "Adana": "01", "Adıyaman": "02", "Afyonkarahisar": "03", "Ağrı": "04", "Amasya": "05", "Ankara": "06",
    "Antalya": "07", "Artvin": "08", "Aydın": "09", "Balıkesir": "10", "Bilecik": "11", "Bingöl": "12",
    "Bitlis": "13", "Bolu": "14", "Burdur": "15", "Bursa": "16", "Çanakkale": "17", "Çankırı": "18", "Çorum": "19",
    "Denizli": "20", "Diyarbakır": "21", "Edirne": "22", "Elazığ": "23", "Erzincan": "24", "Erzurum": "25",
    "Eskişehir": "26", "Gaziantep": "27", "Giresun": "28", "Gümüşhane": "29", "Hakkari": "30", "Hatay": "31",
    "Isparta": "32", "Mersin": "33", "İstanbul": "34", "İzmir": "35", "Kars": "36", "Kastamonu": "37",
    "Kayseri": "38", "Kırklareli": "39", "Kırşehir": "40", "Kocaeli": "41", "Konya": "42", "Kütahya": "43",
    "Malatya": "44", "Manisa": "45", "Kahramanmaraş": "46", "Mardin": "47", "Muğla": "48", "Muş": "49",
    "Nevşehir": "50", "Niğde": "51", "Ordu": "52", "Rize": "53", "Sakarya": "54", "Samsun": "55", "Siirt": "56",
    "Sinop": "57", "Sivas": "58", "Tekirdağ": "59", "Tokat": "60", "Trabzon": "61", "Tunceli": "62",
    "Şanlıurfa": "63", "Uşak": "64", "Van": "65", "Yozgat": "66", "Zonguldak": "67", "Aksaray": "68",
    "Bayburt": "69", "Karaman": "70", "Kırıkkale": "71", "Batman": "72", "Şırnak": "73", "Bartın": "74",
    "Ardahan": "75", "Iğdır": "76", "Yalova": "77", "Karabük": "78", "Kilis": "79", "Osmaniye": "80", "Düzce": "81",
}
"""Türkiye's 81 provinces -> ISO 3166-2:TR code (the licence-plate number), as in Natural Earth's admin-1 ids."""
STATE_CODES = {"USA": ("US", US_STATES, "US Total"), "IND": ("IN", IN_STATES, "India Total"),
               "TUR": ("TR", TR_PROVINCES, "Türkiye Total")}
CO2_FROM_GENERATION = ("TUR",)
"""Countries whose province power CO2 comes from the generation-by-fuel table (no overview table exists):
``power_co2`` = the emissions of Coal, Gas and Other Fossil (bioenergy and geothermal CO2 are not fossil)."""
UNALLOCATED = ("Others",)
"""State names kept as they are (no ISO code): India's unallocated remainder."""

MAX_TWH = {"monthly": 3_500.0, "yearly": 40_000.0}
"""Largest plausible demand / generation of any area (the World: ~2,750 TWh a month, ~31,000 a year)."""
MAX_INTENSITY = 1_500.0
"""gCO2/kWh; Ember's highest national value is ~1,300."""
MEDIAN_INTENSITY = (50.0, 1_500.0)
MIN_MEDIAN_STATE_GWH = 50.0
"""The median state-month in GWh lies far above this; a file in TWh would not."""
MIN_MEDIAN_PROVINCE_GWH = 5.0
"""The same floor for Türkiye's province-months (all fuels; the real median is about 100 GWh)."""
MIN_NET_TWH = -1.0
"""State values are EIA/CEA *net* generation: a plant's own use can exceed its output (Washington, D.C.
2002-2007: -0.2..-1.1 GWh a month; Colorado other fossil 2020: -108 GWh a year), so small negative
generation and CO2 are kept as published; below this (TWh or MtCO2) a value is corrupt."""

BASE_URL = "https://raw.githubusercontent.com/ember-climate/ember-data-api/main/data"
FILES = ("api_country_overview_monthly.csv", "api_country_overview_yearly.csv", "api_overview_usa_monthly.csv",
         "api_overview_ind_monthly.csv", "api_generation_ind_monthly.csv", "generation_tur_monthly.csv")

INFO = SourceInfo(
    name="ember_api",
    title="Ember data API: demand and power CO2 intensity by country; US and India states, Türkiye provinces monthly",
    kind="statistical",
    licence="CC-BY-4.0 (Ember)",
    url="https://ember-energy.org/data/",
    shipped=("electricity/ember/api_country_overview_monthly.csv.gz",
             "electricity/ember/api_country_overview_yearly.csv.gz",
             "electricity/ember/api_overview_usa_monthly.csv.gz",
             "electricity/ember/api_overview_ind_monthly.csv",
             "electricity/ember/api_generation_ind_monthly.csv.gz",
             "electricity/ember/generation_tur_monthly.csv.gz",
             "electricity/ember/ember_data_api_metadata_licence.json"),
    note="ember-data-api@02ce82d4 snapshot: countries monthly to 2025-04, yearly to 2024, US states to 2025-01, "
         "India states to 2025-02; states' demand_gwh is generation (read as generation_total)",
)


def _read_csv(path: Path) -> pd.DataFrame:
    return read_csv_checked(path, "Ember API", encoding="utf-8-sig")


_need = need_columns


def _numbers(raw: pd.DataFrame, cols: Sequence[str], name: str) -> None:
    for c in cols:
        num = pd.to_numeric(raw[c], errors="coerce")
        text = num.isna() & raw[c].notna()
        if text.any():
            i = int(np.flatnonzero(text.to_numpy())[0])
            raise IngestError(f"{name}: non-numeric {c} {raw[c].iloc[i]!r} in row {i + 2}")
        raw[c] = num


def _complete(raw: pd.DataFrame, cols: Sequence[str], name: str, where: pd.Series | None = None) -> None:
    """Every row (of ``where``) has a value in ``cols``: a blank there means a truncated or broken file."""
    for c in cols:
        empty = raw[c].isna() if where is None else raw[c].isna() & where
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise IngestError(f"{name}: row {i + 2} is incomplete ({c} is empty): truncated or broken file?")


def _periods(raw: pd.DataFrame, name: str) -> tuple[pd.Series, str]:
    """First day of each row's month (``date``) or year (``year``) and the frequency."""
    if "date" in raw.columns:
        period = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
        bad = period.isna() | (period.dt.day != 1)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise IngestError(f"{name}: date {raw['date'].iloc[i]!r} in row {i + 2} is not the first of a month "
                              f"as YYYY-MM-DD")
        return period, "monthly"
    if "year" in raw.columns:
        year = pd.to_numeric(raw["year"], errors="coerce")
        if year.isna().any() or not year.between(1900, 2100).all():
            raise IngestError(f"{name}: year must be a 4-digit year in every row")
        return pd.to_datetime(year.astype(int).astype(str) + "-01-01"), "yearly"
    raise IngestError(f"{name} has neither a date (monthly) nor a year (yearly) column")


def _check_intensity(values: pd.Series, name: str) -> None:
    v = values[values > 0]
    if v.empty:
        return
    lo, hi = MEDIAN_INTENSITY
    med = float(v.median())
    if not lo <= med <= hi:
        raise IngestError(f"{name}: median emissions intensity {med:g} is outside {lo:g}..{hi:g} gCO2/kWh: "
                          f"wrong units (tCO2/MWh? kgCO2/kWh?)")


def read_ember_overview(path: Path) -> pd.DataFrame:
    """Country overview (monthly or yearly) -> canonical table: ``demand`` (TWh per period) and
    ``power_co2_intensity`` (gCO2/kWh); dims iso3 (+ WLD, EU27) x period x variable."""
    path = Path(path)
    name = path.name
    raw = _read_csv(path)
    _need(raw, COUNTRY_COLUMNS, name)
    period, frequency = _periods(raw, name)
    _numbers(raw, ("demand_twh", "emissions_intensity_gco2_per_kwh"), name)
    _complete(raw, ("demand_twh", "emissions_intensity_gco2_per_kwh"), name)
    code = raw["country_code"].where(raw["country_code"].notna(), raw["country_or_region"].map(KEPT_AGGREGATES))
    keep = code.notna()
    bad_code = keep & ~code.astype(str).str.fullmatch(r"[A-Z]{3}|EU27")
    if bad_code.any():
        raise IngestError(f"{name}: country_code {code[bad_code].iloc[0]!r} is not an ISO 3166-1 alpha-3 code")
    _check_intensity(raw.loc[keep, "emissions_intensity_gco2_per_kwh"], name)
    source = SOURCE_MONTHLY if frequency == "monthly" else SOURCE_YEARLY
    base = {"iso3": code[keep], "region": "", "period": period[keep], "frequency": frequency, "source": source}
    df = pd.concat([
        pd.DataFrame({**base, "variable": "demand", "value": raw.loc[keep, "demand_twh"], "unit": "TWh"}),
        pd.DataFrame({**base, "variable": "power_co2_intensity",
                      "value": raw.loc[keep, "emissions_intensity_gco2_per_kwh"], "unit": "gCO2/kWh"}),
    ], ignore_index=True)
    return finish(df, name, source=source,
                  max_value={"demand": MAX_TWH[frequency], "power_co2_intensity": MAX_INTENSITY})


def _state_rows(raw: pd.DataFrame, name: str) -> tuple[str, str, pd.Series]:
    """(iso3, source, region code per row) of a state file; IngestError for an unknown country or state."""
    countries = sorted(set(raw["country"].astype(str)))
    if len(countries) != 1 or countries[0] not in STATE_SOURCES:
        raise IngestError(f"{name}: expected the states of one of {sorted(STATE_SOURCES)}, found {countries}")
    iso3, source = STATE_SOURCES[countries[0]]
    prefix, table, total = STATE_CODES[iso3]
    states = raw["state"].astype(str).str.strip()
    unknown = sorted(set(states) - set(table) - {total, *UNALLOCATED})
    if unknown:
        raise IngestError(f"{name}: unknown state name(s) {unknown}; add them to ingest/ember_api.py")
    region = states.map(lambda s: "" if s == total else (s if s in UNALLOCATED else f"{prefix}-{table[s]}"))
    return iso3, source, region


def _check_state_scale(gwh: pd.Series, name: str, floor: float = 0.0) -> None:
    v = gwh[gwh > 0]
    if not v.empty and float(v.median()) < (floor or MIN_MEDIAN_STATE_GWH):
        raise IngestError(f"{name}: median state generation {float(v.median()):g} GWh per period is implausibly "
                          f"small: is the column in TWh rather than GWh?")


def _finish_states(df: pd.DataFrame, name: str, source: str, max_value: dict[str, float]) -> pd.DataFrame:
    """:func:`finish` allowing the small negative net generation (and its CO2) of state tables."""
    low = df["value"] < MIN_NET_TWH
    if low.any():
        r = df[low].iloc[0]
        raise IngestError(f"{name}: {r['variable']} {r['value']:g} {r['unit']} for {r['region']} "
                          f"{r['period'].date()} is below {MIN_NET_TWH:g}: corrupt or wrong sign")
    negative_ok = [v for v in max_value if v != "power_co2_intensity"]
    return finish(df, name, source=source, max_value=max_value, allow_negative=negative_ok)


def read_ember_states(path: Path) -> pd.DataFrame:
    """US or India states overview (monthly) -> ``generation_total`` (TWh; Ember's ``demand_gwh``, see the
    module docstring), ``power_co2`` (MtCO2) and ``power_co2_intensity`` (gCO2/kWh) per state and month."""
    path = Path(path)
    name = path.name
    raw = _read_csv(path)
    _need(raw, STATE_COLUMNS, name)
    period, frequency = _periods(raw, name)
    _numbers(raw, ("demand_gwh", "emissions_ktco2", "emissions_intensity_gco2_per_kwh"), name)
    _complete(raw, ("demand_gwh", "emissions_ktco2"), name)
    _complete(raw, ("emissions_intensity_gco2_per_kwh",), name, where=raw["demand_gwh"] > 0)
    iso3, source, region = _state_rows(raw, name)
    _check_state_scale(raw["demand_gwh"], name)
    _check_intensity(raw["emissions_intensity_gco2_per_kwh"], name)
    est = raw["demand_gwh"] * raw["emissions_intensity_gco2_per_kwh"] / 1000.0
    off = (est - raw["emissions_ktco2"]).abs() > np.maximum(0.02 * raw["emissions_ktco2"].abs(), 0.5)
    if off.any():
        r = raw[off].iloc[0]
        raise IngestError(f"{name}: emissions {r['emissions_ktco2']} ktCO2 of {r['state']} {r['date']} differ from "
                          f"demand_gwh x intensity ({est[off].iloc[0]:.1f}): columns swapped or corrupted?")
    base = {"iso3": iso3, "region": region, "period": period, "frequency": frequency, "source": source}
    df = pd.concat([
        pd.DataFrame({**base, "variable": "generation_total", "value": raw["demand_gwh"] / 1000.0, "unit": "TWh"}),
        pd.DataFrame({**base, "variable": "power_co2", "value": raw["emissions_ktco2"] / 1000.0, "unit": "MtCO2"}),
        pd.DataFrame({**base, "variable": "power_co2_intensity", "value": raw["emissions_intensity_gco2_per_kwh"],
                      "unit": "gCO2/kWh"}),
    ], ignore_index=True)
    return _finish_states(df, name, source, {"generation_total": MAX_TWH[frequency], "power_co2": MAX_TWH[frequency],
                                             "power_co2_intensity": MAX_INTENSITY})


def read_ember_state_generation(path: Path) -> pd.DataFrame:
    """US or India states generation by fuel -> ``generation_<fuel>`` in TWh per state and period."""
    path = Path(path)
    name = path.name
    raw = _read_csv(path)
    _need(raw, GENERATION_COLUMNS, name)
    period, frequency = _periods(raw, name)
    _numbers(raw, ("generation_gwh", "emissions_ktco2"), name)
    _complete(raw, ("generation_gwh",), name)
    iso3, source, region = _state_rows(raw, name)
    unknown = sorted(set(raw["variable"].astype(str)) - set(FUELS) - set(DROPPED_FUELS))
    if unknown:
        raise IngestError(f"{name}: unknown variable(s) {unknown}")
    raw = raw.assign(region=region, period=period)
    key = ["region", "period", "variable"]
    if raw.duplicated(key).any():
        r = raw[raw.duplicated(key)].iloc[0]
        raise IngestError(f"{name}: duplicate {r['variable']} for {r['state']} {r['period'].date()}")
    if iso3 in CO2_FROM_GENERATION:  # small provinces: check the province totals against a lower floor
        totals = raw.groupby(["region", "period"])["generation_gwh"].sum()
        _check_state_scale(totals, name, MIN_MEDIAN_PROVINCE_GWH)
    else:
        _check_state_scale(raw.loc[raw["variable"] == "Fossil", "generation_gwh"]
                           if (raw["variable"] == "Fossil").any() else raw["generation_gwh"], name)
    wide = raw.pivot_table(index=["region", "period"], columns="variable", values="generation_gwh", aggfunc="first")
    for agg, parts in AGGREGATE_FUELS.items():
        if agg not in wide.columns:
            continue
        have = wide[wide[agg].notna()]
        parts_sum = have.reindex(columns=list(parts)).sum(axis=1, min_count=1)
        bad = (have[agg] - parts_sum).abs() > np.maximum(0.01 * have[agg].abs(), 0.5)
        if bad.any():
            reg, per = bad[bad].index[0]
            raise IngestError(f"{name}: {agg} of {reg or iso3} {per.date()} is not the sum of {', '.join(parts)}")
    gen = raw[raw["variable"].isin(list(FUELS))]
    df = pd.DataFrame({"iso3": iso3, "region": gen["region"], "period": gen["period"], "frequency": frequency,
                       "variable": gen["variable"].map(FUELS), "value": gen["generation_gwh"] / 1000.0,
                       "unit": "TWh", "source": source})
    limits = dict.fromkeys(FUELS.values(), MAX_TWH[frequency])
    if iso3 in CO2_FROM_GENERATION:
        fossil = raw[raw["variable"].isin(AGGREGATE_FUELS["Fossil"])]
        if fossil["emissions_ktco2"].isna().any():
            r = fossil[fossil["emissions_ktco2"].isna()].iloc[0]
            raise IngestError(f"{name}: emissions_ktco2 missing for {r['variable']} of {r['state']} {r['date']}")
        co2 = fossil.groupby(["region", "period"], as_index=False)["emissions_ktco2"].sum()
        df = pd.concat([df, pd.DataFrame({"iso3": iso3, "region": co2["region"], "period": co2["period"],
                                          "frequency": frequency, "variable": "power_co2",
                                          "value": co2["emissions_ktco2"] / 1000.0, "unit": "MtCO2",
                                          "source": source})], ignore_index=True)
        limits["power_co2"] = MAX_TWH[frequency]
    return _finish_states(df, name, source, limits)


def _kind(path: Path) -> str:
    import gzip

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"Ember API file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as f:
            cols = set(f.readline().strip().replace('"', "").split(","))
    except (OSError, EOFError) as e:
        raise IngestError(f"{path.name} cannot be read: {e}") from e
    if {"country_or_region", "demand_twh"} <= cols:
        return "overview"
    if {"state", "generation_gwh", "variable"} <= cols:
        return "generation"
    if {"state", "demand_gwh"} <= cols:
        return "states"
    raise IngestError(f"{path.name}: not an Ember API table (country overview, state overview or state "
                      f"generation); columns {sorted(cols)[:12]}")


def read_ember_api(path: Path) -> pd.DataFrame:
    """Any of the layouts of this module, told apart by the header."""
    kind = _kind(path)
    if kind == "overview":
        return read_ember_overview(path)
    if kind == "states":
        return read_ember_states(path)
    return read_ember_state_generation(path)


class EmberAPIAdapter(BaseAdapter):
    """Ember API country overview and state tables -> canonical activity table (Parquet)."""

    info = INFO

    def __init__(self, base_url: str | None = None, files: Sequence[str] = FILES,
                 urls: Mapping[str, str] | None = None, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.base_url = (base_url or BASE_URL).rstrip("/")
        self.files = tuple(files)
        self.urls = dict(urls or {})

    def download(self, start: date, end: date) -> list[Path]:
        """The API tables (each holds every period); cached, sha256 sidecar, retried."""
        from ingest.download import fetch

        if end < start:
            raise IngestError(f"download period is empty: {start} > {end}")
        return [fetch(self.urls.get(f, f"{self.base_url}/{f}"), source=self.info.name,
                      settings=self.settings) for f in self.files]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if not paths:
            raise IngestError("no Ember API files given")
        out = pd.concat([read_ember_api(p) for p in paths], ignore_index=True)
        self.validate(out)
        return out

    def validate(self, data: pd.DataFrame) -> None:
        check_canonical(data, "Ember API")
