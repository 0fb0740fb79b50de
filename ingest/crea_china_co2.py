"""CREA's China monthly CO2 by product and sector -> the canonical activity table (ingest/activity.py).

File: ``crea_china_monthly_CO2_by_product_sector.csv`` (energyandcleanair/china_co2@4043449a:outputs/CO2.csv),
columns ``basis_of_estimate, date, product, product_category, sector, CO2, CO2_3m_mean, CO2_12m_mean,
YoY_change_percent_1m, YoY_change_percent_3m_mean, YoY_change_absolute_1m, YoY_change_absolute_3m_mean,
include_in_totals, unit`` (``unit`` = ``MtCO2/month``; ``date`` = last day of the month; ``NA`` = empty).

**basis_of_estimate is a variant, not a per-month flag.**  Every month appears three times, once per
variant of CREA's whole estimate (see CREA's workflow script in that repository):

- ``reported``: CO2 from the reported monthly consumption (Wind/CCTD coal use by sector, apparent oil and
  gas consumption, cement output);
- ``predicted based on output``: the same, but coking coal (from 2012) and power-sector steam coal (from
  2015) are replaced by values predicted from industrial output (pig iron, thermal generation);
- ``adjusted to NBS numbers``: the predicted variant scaled to NBS's reported energy-mix growth; it differs
  from the predicted one only in the latest year (2024 here).  CREA highlights this variant; its 2023
  total is 12,085 MtCO2 (the README's 12.1 Gt).  :data:`DEFAULT_BASIS`.

:func:`read_crea_china_co2` reads one variant (default :data:`DEFAULT_BASIS`); :func:`estimate_basis` says
for each month and variable of that variant whether its value is the reported one, the output-based
prediction or the NBS adjustment, and :func:`predicted_months` lists the months that are not reported.

**Variables** (MtCO2 per month, iso3 ``CHN``), built from the rows with ``include_in_totals`` TRUE of the
chosen variant; a variable is given for a month only if **every** one of its parts has a value then:

- ``co2_coal`` = Coking Coal/Metallurgy Industry + Steam Coal/{Power Industry, Heating System Industry,
  Metallurgy Industry, Building Materials, Chemical Industry, Other Sectors}; ``co2_oil`` = Oil Products;
  ``co2_gas`` = Natural Gas/Total; ``co2_cement`` = Cement (process CO2);
- ``co2_total`` = the four, where all four are complete; else CREA's own ``Total`` row where it has a value
  (2012-01..2012-11, when the steam-coal sector rows are absent: CREA dropped rows without a 12-month
  history).  Where both exist they must agree (a check that the file was read right).
- coal by sector (the file splits only coal, and gas into power/other from 2019):
  ``co2_coal_power`` = Steam Coal/Power Industry; ``co2_coal_heat`` = Steam Coal/Heating System Industry
  (district heat: IPCC 1A1a with power, kept apart so the caller decides); ``co2_coal_industry`` =
  Steam Coal/{Metallurgy Industry, Building Materials, Chemical Industry} + Coking Coal/Metallurgy Industry
  (combustion only; cement process CO2 is ``co2_cement``); ``co2_coal_other_sectors`` = Steam Coal/Other
  Sectors (residential, commercial, agriculture, transport use of coal); ``co2_gas_power`` = Natural
  Gas/Power Industry (derived by CREA from gas-fired generation; ``include_in_totals`` FALSE).
  These are not ``co2_power``/``co2_industry``: the file has no oil or gas split for industry, so a
  ``co2_industry`` from it would be coal-only under an all-fuel name.

Before 2012 the file carries one value a year per product, at 31 December, equal to its own 3- and
12-month means (the monthly mean of that year; the Total then lacks steam coal): such December-only
annual values are not monthly data and are dropped.  (Steam coal's sector rows also start with a lone
2012-12 value, but it differs from its means: a real month, kept.)

**Publication lag** ``crea_china_co2`` = 120 days: CREA updates the file quarterly (the script's
``last_month`` is a quarter end) with its quarterly analysis ~60 days after the quarter; the first month
of a quarter therefore appears ~120 days after it ends.

Licence: CREA output in a GPL-3.0 repository (energyandcleanair/china_co2); underlying NBS/Wind/CCTD data.
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

SOURCE = "crea_china_co2"
LAG = register_lag(SOURCE, 120)
URL = "https://raw.githubusercontent.com/energyandcleanair/china_co2/4043449a/outputs/CO2.csv"
SHIPPED = "statistical/monthly-co2/crea_china_monthly_CO2_by_product_sector.csv.gz"
COLUMNS = ("basis_of_estimate", "date", "product", "product_category", "sector", "CO2", "CO2_3m_mean",
           "CO2_12m_mean", "include_in_totals", "unit")
BASES = ("reported", "predicted based on output", "adjusted to NBS numbers")
DEFAULT_BASIS = "adjusted to NBS numbers"
UNIT = "MtCO2/month"
MAX_MONTHLY_MT = 2000.0
"""China emits ~1,000 MtCO2 a month; a value above this means kt or another unit."""

Part = tuple[str, str]
_STEAM = "Steam Coal"
PARTS: dict[str, tuple[Part, ...]] = {
    "co2_coal": (("Coking Coal", "Metallurgy Industry"), (_STEAM, "Power Industry"),
                 (_STEAM, "Heating System Industry"), (_STEAM, "Metallurgy Industry"),
                 (_STEAM, "Building Materials"), (_STEAM, "Chemical Industry"), (_STEAM, "Other Sectors")),
    "co2_oil": (("Oil Products", "Total"),),
    "co2_gas": (("Natural Gas", "Total"),),
    "co2_cement": (("Cement", "Total"),),
    "co2_coal_power": ((_STEAM, "Power Industry"),),
    "co2_coal_heat": ((_STEAM, "Heating System Industry"),),
    "co2_coal_industry": (("Coking Coal", "Metallurgy Industry"), (_STEAM, "Metallurgy Industry"),
                          (_STEAM, "Building Materials"), (_STEAM, "Chemical Industry")),
    "co2_coal_other_sectors": ((_STEAM, "Other Sectors"),),
    "co2_gas_power": (("Natural Gas", "Power Industry"),),
}
"""Canonical variable -> the (product, sector) rows summed into it."""
IN_TOTALS = ("co2_coal", "co2_oil", "co2_gas", "co2_cement")
TOTAL_ROW: Part = ("Total", "")


def _read_raw(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"CREA China CO2 file not found: {path}")
    try:
        raw = pd.read_csv(path, dtype={"include_in_totals": str, "sector": str}, keep_default_na=False,
                          na_values=["NA", ""])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, OSError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(f"{path.name} lacks the column(s) {missing}; found {list(raw.columns)}")
    if raw["unit"].isna().any():
        raise IngestError(f"{path.name}: line {int(raw.index[raw['unit'].isna()][0]) + 2} has no unit "
                          f"(truncated file?)")
    units = sorted(set(raw["unit"]))
    if units != [UNIT]:
        raise IngestError(f"{path.name}: unit is {units}, expected only {UNIT!r}")
    unknown = sorted(set(raw["basis_of_estimate"].dropna()) - set(BASES))
    if unknown or raw["basis_of_estimate"].isna().any():
        raise IngestError(f"{path.name}: unknown basis_of_estimate {unknown or ['(empty)']}")
    when = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    if when.isna().any() or not (when == when + pd.offsets.MonthEnd(0)).all():
        bad = raw.loc[when.isna() | (when != when + pd.offsets.MonthEnd(0)), "date"].iloc[0]
        raise IngestError(f"{path.name}: date {bad!r} is not the last day of a month (YYYY-MM-DD)")
    co2 = pd.to_numeric(raw["CO2"], errors="coerce")
    m3, m12 = (pd.to_numeric(raw[c], errors="coerce") for c in ("CO2_3m_mean", "CO2_12m_mean"))
    if (co2.isna() & raw["CO2"].notna()).any():
        raise IngestError(f"{path.name}: non-numeric CO2 {raw.loc[co2.isna() & raw['CO2'].notna(), 'CO2'].iloc[0]!r}")
    flag = raw["include_in_totals"].str.upper().map({"TRUE": True, "FALSE": False})
    if (flag.isna() & raw["include_in_totals"].notna()).any():
        raise IngestError(f"{path.name}: include_in_totals must be TRUE, FALSE or NA")
    df = pd.DataFrame({"basis": raw["basis_of_estimate"], "period": when.dt.to_period("M").dt.to_timestamp(),
                       "product": raw["product"], "sector": raw["sector"].fillna(""), "co2": co2,
                       "include": flag})
    key = ["basis", "period", "product", "sector"]
    if df.duplicated(key).any():
        r = df[df.duplicated(key)].iloc[0]
        raise IngestError(f"{path.name}: duplicate {r['basis']} / {r['product']} / {r['sector']} "
                          f"{r['period']:%Y-%m}")
    keys = {b: set(g[["period", "product", "sector"]].itertuples(index=False, name=None))
            for b, g in df.groupby("basis")}
    if len(set(map(frozenset, keys.values()))) > 1:
        raise IngestError(f"{path.name}: the basis_of_estimate variants do not cover the same months and rows "
                          f"({ {b: len(k) for b, k in keys.items()} }): truncated file?")
    if (df["co2"] > MAX_MONTHLY_MT).any():
        raise IngestError(f"{path.name}: CO2 {df['co2'].max():g} exceeds {MAX_MONTHLY_MT:g} {UNIT}: wrong units?")
    # a year with only a December value equal to its own 3- and 12-month means is an annual mean placed
    # at 31 December (2001-2011), not monthly data
    valued = df.dropna(subset=["co2"])
    g = valued.groupby([valued["basis"], valued["product"], valued["sector"], valued["period"].dt.year])
    annual = ((g["period"].transform("size") == 1) & (valued["period"].dt.month == 12)
              & np.isclose(valued["co2"], m12[valued.index], rtol=1e-9, atol=0.0)
              & np.isclose(valued["co2"], m3[valued.index], rtol=1e-9, atol=0.0))
    df = df.drop(index=valued.index[annual.to_numpy()])
    df.attrs["name"] = path.name
    return df


def _variables(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Canonical rows of one variant (``df`` holds one basis)."""
    wide = df.pivot_table(index="period", columns=["product", "sector"], values="co2", aggfunc="first",
                          dropna=False)
    wide = wide.reindex(sorted(set(df["period"])))
    flagged = df.loc[df["include"].eq(True), ["product", "sector"]].drop_duplicates()
    included = set(flagged.itertuples(index=False, name=None))
    for var in IN_TOTALS:
        if not set(PARTS[var]) <= included and any(p in wide.columns for p in PARTS[var]):
            raise IngestError(f"{name}: the rows of {var} {PARTS[var]} are not all include_in_totals TRUE")
    out: dict[str, pd.Series] = {}
    for var, parts in PARTS.items():
        cols = wide.reindex(columns=pd.MultiIndex.from_tuples(parts))
        out[var] = cols.sum(axis=1, min_count=len(parts)).where(cols.notna().all(axis=1))
    total = pd.concat([out[v] for v in IN_TOTALS], axis=1).sum(axis=1, min_count=len(IN_TOTALS))
    published = wide[TOTAL_ROW] if TOTAL_ROW in wide.columns else pd.Series(np.nan, index=wide.index)
    both = total.notna() & published.notna()
    if not np.allclose(total[both], published[both], rtol=1e-6, atol=1e-6):
        p = (total[both] - published[both]).abs().idxmax()
        raise IngestError(f"{name}: the products of {p:%Y-%m} add up to {total[p]:.3f}, but the file's Total "
                          f"is {published[p]:.3f} {UNIT}")
    out["co2_total"] = total.fillna(published)
    frames = [pd.DataFrame({"period": s.index, "variable": var, "value": s.to_numpy()}) for var, s in out.items()]
    return pd.concat(frames, ignore_index=True).dropna(subset=["value"])


def read_crea_china_co2(path: Path, basis: str = DEFAULT_BASIS) -> pd.DataFrame:
    """CREA China monthly CO2 (one ``basis`` variant) -> canonical table, MtCO2 per month, iso3 CHN."""
    if basis not in BASES:
        raise IngestError(f"basis must be one of {BASES}, not {basis!r}")
    df = _read_raw(path)
    name = df.attrs["name"]
    one = df[df["basis"] == basis]
    if one.empty:
        raise IngestError(f"{name}: no rows with basis_of_estimate {basis!r}")
    rows = _variables(one, name).assign(iso3="CHN", region="", frequency="monthly", unit="MtCO2", source=SOURCE)
    out = finish(rows, name, source=SOURCE, max_value={v: MAX_MONTHLY_MT for v in [*PARTS, "co2_total"]})
    out.attrs["basis_of_estimate"] = basis
    return out


def estimate_basis(path: Path, basis: str = DEFAULT_BASIS) -> pd.DataFrame:
    """``period, variable, value, estimate``: for each value of the ``basis`` variant, ``reported`` if it
    equals the reported variant's value, else ``predicted based on output`` if it equals the predicted
    variant's, else ``adjusted to NBS numbers``."""
    df = _read_raw(path)
    name = df.attrs["name"]
    tables = {b: _variables(df[df["basis"] == b], name).set_index(["period", "variable"])["value"]
              for b in BASES if (df["basis"] == b).any()}
    if basis not in tables:
        raise IngestError(f"{name}: no rows with basis_of_estimate {basis!r}")
    own = tables[basis]
    label = pd.Series("adjusted to NBS numbers", index=own.index)
    for b in ("predicted based on output", "reported"):  # the later assignment wins
        if b in tables:
            other = tables[b].reindex(own.index)
            label[np.isclose(own.to_numpy(), other.to_numpy(), rtol=1e-9, atol=0.0)] = b
    return pd.DataFrame({"value": own, "estimate": label}).reset_index().sort_values(
        ["variable", "period"]).reset_index(drop=True)


def predicted_months(path: Path, variable: str = "co2_total", basis: str = DEFAULT_BASIS) -> list[pd.Timestamp]:
    """Months where ``variable`` of the ``basis`` variant is not the reported value (predicted or adjusted)."""
    e = estimate_basis(path, basis)
    return list(e.loc[(e["variable"] == variable) & (e["estimate"] != "reported"), "period"])


class CreaChinaCO2Adapter(BaseAdapter):
    """CREA China monthly CO2 by product and sector -> canonical table (source ``crea_china_co2``)."""

    info = SourceInfo(
        name=SOURCE,
        title="CREA China monthly CO2 emissions by product and coal-using sector",
        kind="statistical",
        licence="CREA output in a GPL-3.0 repository (energyandcleanair/china_co2); NBS/Wind/CCTD inputs",
        url="https://github.com/energyandcleanair/china_co2",
        shipped=(SHIPPED,),
        note="publisher CREA (Centre for Research on Energy and Clean Air), energyandcleanair/china_co2@"
             "4043449a:outputs/CO2.csv; variant 'adjusted to NBS numbers' by default",
    )

    def __init__(self, basis: str = DEFAULT_BASIS, url: str = URL, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.basis = basis
        self.url = url

    def download(self, start: date, end: date) -> list[Path]:
        """CREA's CO2.csv at the pinned commit (one file for all months; cached, retried)."""
        from ingest.download import fetch

        return [fetch(self.url, source=self.info.name, settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("give exactly one CREA China CO2 file")
        return read_crea_china_co2(paths[0], self.basis)

    def validate(self, data: pd.DataFrame) -> None:
        finish(data, SOURCE, source=SOURCE, max_value={v: MAX_MONTHLY_MT for v in [*PARTS, "co2_total"]})
