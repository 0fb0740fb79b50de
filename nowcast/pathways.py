"""Targets and roadmaps: how far a region is from its target and the yearly sector pathway that reaches it.

Pure functions (issue #17), emissions in t CO2 yr-1, rates per year (0.01 = 1 %/yr).  ``now`` is the last
complete year of data; years run ``now .. target year``.

**Targets** (:func:`parse_target`): either a *peak year* ("emissions peak no later than P") or a *cut*
("cut X % by year Y against base year B").  A half-given target, a target year that is not in the future,
a base year outside the data or after the target year are :class:`TargetError` (the API answers 422 and
says what to change).

**Where the region stands** (:func:`assess_target`):

- cut: the target level is ``base x (1 - X/100)``; the *path* is the straight line from the base year's
  emissions to the target level in the target year; the gap is ``now - path(now)``; the *rate now needed* is
  the constant annual change from now to the target level, ``(target / now)^(1 / (Y - now)) - 1``; on the
  current trend (:func:`nowcast.peak.trend_growth`) the region ends at ``now x (1 + g)^(Y - now)``;
- peak year: if the region has already peaked (:mod:`nowcast.peak`) by P, it is met.  Otherwise the path
  lets growth slow linearly from the current trend ``g`` to zero in year P (growth in year ``now + k`` is
  ``g (1 - k / (P - now))``): the rate now needed is the first year's growth, and growth must fall by
  ``g / (P - now)`` percentage points every year; the gap is the trend's value in P minus the path's.

**Roadmap** (:func:`pathway`): per sector, the *current trend* continues each sector's recent growth
(Theil-Sen over the last 5 years, clipped to +-:data:`MAX_TREND`); the *levers* (:data:`LEVERS`) change
sectors by the target year, phased in linearly from now; the *target path* of the total is the constant-rate
path from now to the target level (cut) or the slowing-growth path (peak); wherever the levered sectors
still exceed the target path, every sector is scaled by the same factor that year (equal proportional
effort: the simplest split that reaches the target; the levers say where more is cheap).  Returned: the
yearly path per sector, each sector's required annual change, the implied peak year, cumulative emissions
to the target year, and the gap to the current trend.

**Levers** and their documented effects (``x`` the lever value, all phased in linearly to the target year):

- ``coal_share_power`` (% of electricity generated from coal in the target year, 0-100): coal generation
  above (below) today's share is replaced by (replaces) non-fossil generation; power CO2 changes by
  ``(x - c0) / 100 x EF_coal / I`` of itself, ``c0`` today's coal share and ``I`` today's CO2 per MWh of all
  generation from the mix (:data:`EF_T_PER_MWH`); needs the region's country in the power-mix table;
- ``industry_energy_intensity_pct`` (% change of industrial energy use per unit of output, -80..+50): the
  combustion part of industry CO2 changes by ``x %``; process CO2 (cement, flaring; its share from the
  national inventory's fuel split) does not;
- ``electric_share_road`` (% of road vehicle-km driven electrically in the target year, 0-100; today's share
  taken as 0): ground-transport CO2 falls by ``ROAD_SHARE x x %``; the electricity needed
  (``EV_ENERGY_RATIO`` MWh of electricity per MWh of road fuel replaced, fuel at ``EF_ROAD_FUEL``) adds to power
  CO2 at the grid's intensity (after the coal lever);
- ``building_heat_demand_pct`` (% change of building heat demand, -80..+50): residential and commercial CO2
  changes by ``HEAT_SHARE x x %`` (space and water heating's share of buildings' direct fossil CO2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from carbonmap.contract import SECTORS
from carbonmap.errors import InvalidInput
from nowcast.peak import TREND_YEARS, PeakResult, trend_growth

MAX_TREND = 0.10
"""Sector trends are clipped to +-10 %/yr (a short, noisy history must not explode a 20-year projection)."""
TJ_PER_MWH = 0.0036
EF_T_PER_MWH = {
    "coal": 94.6 * TJ_PER_MWH / 0.35,  # IPCC 2006 default for bituminous coal, 35 % plant efficiency: 0.97
    "gas": 56.1 * TJ_PER_MWH / 0.50,  # natural gas, 50 % (CCGT/OCGT mix): 0.40
    "oil": 77.4 * TJ_PER_MWH / 0.37,  # diesel/fuel oil, 37 %: 0.75
}
"""t CO2 per MWh of electricity by fuel: IPCC 2006 default combustion factors (t CO2 per TJ of fuel) over typical
plant efficiencies."""
ROAD_SHARE = 0.90
"""Road's share of ground-transport CO2 (rail and inland navigation the rest; IEA: road ~ 90 %)."""
EV_ENERGY_RATIO = 0.30
"""MWh of electricity an electric vehicle uses per MWh of fuel a combustion vehicle burns for the same distance
(about 0.2 kWh/km against 0.65 kWh/km of petrol or diesel)."""
EF_ROAD_FUEL = 0.26
"""t CO2 per MWh of road fuel (petrol 0.249, diesel 0.267; IPCC 2006)."""
WORLD_GRID_T_PER_MWH = 0.48
"""World average grid intensity (Ember 2024: ~480 g/kWh), used where the country's is not in the release."""
HEAT_SHARE = 0.80
"""Space and water heating's share of buildings' direct fossil CO2 (cooking the rest; IEA buildings data)."""

LEVERS: dict[str, tuple[float, float, str]] = {
    "coal_share_power": (0.0, 100.0, "% of electricity generated from coal in the target year"),
    "industry_energy_intensity_pct": (-80.0, 50.0, "% change of industrial energy use per unit of output"),
    "electric_share_road": (0.0, 100.0, "% of road vehicle-km driven electrically in the target year"),
    "building_heat_demand_pct": (-80.0, 50.0, "% change of building heat demand"),
}
"""Lever name -> (lowest, highest, what it is)."""


class TargetError(InvalidInput):
    """A target or lever the caller must change (the message says what)."""


@dataclass(frozen=True)
class Target:
    kind: Literal["peak", "cut"]
    year: int
    cut_pct: float | None = None
    base_year: int | None = None

    def describe(self) -> str:
        if self.kind == "peak":
            return f"emissions peak no later than {self.year}"
        return f"cut emissions {self.cut_pct:g}% by {self.year} against {self.base_year}"


def parse_target(peak_year: int | None, target_year: int | None, cut_pct: float | None, base_year: int | None,
                 data_years: tuple[int, int], data_end_year: int, base_given: bool = False) -> Target | None:
    """The target the caller asked for, validated (see the module doc); None if none was asked for.

    ``data_years``: (first, last complete) year of the region's annual series; ``data_end_year``: the year of
    the data's last day (a target must lie after it); ``base_given``: the caller gave the base year's value."""
    cut_parts = {"target_year": target_year, "cut_pct": cut_pct, "base_year": base_year}
    given = [k for k, v in cut_parts.items() if v is not None]
    if peak_year is not None and given:
        raise TargetError(f"give either peak_year, or target_year + cut_pct + base_year, not both (got peak_year and "
                          f"{', '.join(given)})")
    if peak_year is not None:
        if peak_year < data_end_year:
            raise TargetError(f"peak_year {peak_year} is in the past: the data run to {data_end_year}; pick "
                              f"{data_end_year} or later (the peak verdict says whether emissions already peaked)")
        return Target("peak", int(peak_year))
    if not given:
        return None
    missing = [k for k, v in cut_parts.items() if v is None]
    if missing:
        raise TargetError(f"a cut target needs target_year, cut_pct and base_year; missing: {', '.join(missing)} "
                          "(e.g. target_year=2030&cut_pct=50&base_year=2005 for 'cut 50% by 2030 against 2005')")
    assert target_year is not None and cut_pct is not None and base_year is not None
    if not 0 <= cut_pct <= 100:
        raise TargetError(f"cut_pct {cut_pct:g} must be between 0 and 100 (the % cut against the base year; "
                          "50 means half the base year's emissions)")
    if target_year <= data_end_year:
        raise TargetError(f"target_year {target_year} is not in the future: the data run to {data_end_year}; "
                          f"pick {data_end_year + 1} or later")
    first, last = data_years
    if not base_given and not first <= base_year <= last:
        raise TargetError(f"base_year {base_year} is outside this region's data ({first}-{last}); pick a base year "
                          "in that range, or give its emissions as base_value_t")
    if base_year >= target_year:
        raise TargetError(f"base_year {base_year} must be before target_year {target_year}")
    return Target("cut", int(target_year), float(cut_pct), int(base_year))


def peak_path(now_t: float, growth: float, now_year: int, peak_year: int) -> np.ndarray:
    """Totals for years now..peak_year when growth slows linearly from ``growth`` (if > 0) to 0 in peak_year."""
    n = peak_year - now_year
    if n <= 0:
        return np.array([now_t])
    g = max(growth, 0.0)
    rates = g * (1 - np.arange(1, n + 1) / n)
    return now_t * np.concatenate([[1.0], np.cumprod(1 + rates)])


@dataclass(frozen=True)
class Assessment:
    """Where a region stands against a target (t CO2 yr-1; rates per year)."""

    target: Target
    now_year: int
    now_t: float
    trend_growth: float
    target_t: float | None
    base_t: float | None
    path_t_now: float
    gap_t: float
    gap_pct: float
    required_annual_change: float
    required_slowdown_pp_per_year: float | None
    trend_t_at_target_year: float
    gap_at_target_year_t: float
    on_track: bool
    met: bool
    explanation: str

def assess_target(target: Target, years: np.ndarray, totals_t: np.ndarray, peaked_year: int | None,
                  base_value_t: float | None = None) -> Assessment:
    """See the module doc.  ``years``/``totals_t``: the region's consecutive annual totals ending in ``now``;
    ``peaked_year``: the peak year of a *peaked* verdict (None otherwise)."""
    yrs = np.asarray(years, dtype=np.int64)
    tot = np.asarray(totals_t, dtype=np.float64)
    now_year, now_t = int(yrs[-1]), float(tot[-1])
    g = float(np.clip(trend_growth(tot, TREND_YEARS), -MAX_TREND, MAX_TREND))
    n = target.year - now_year
    trend_end = now_t * (1 + g) ** max(n, 0)
    if target.kind == "cut":
        assert target.base_year is not None and target.cut_pct is not None
        base = float(base_value_t) if base_value_t is not None else float(tot[yrs == target.base_year][0])
        goal = base * (1 - target.cut_pct / 100)
        frac = (now_year - target.base_year) / (target.year - target.base_year)
        path_now = base + (goal - base) * min(max(frac, 0.0), 1.0)
        rate = (goal / now_t) ** (1 / n) - 1 if now_t > 0 and goal > 0 else -1.0
        gap = now_t - path_now
        on_track = trend_end <= goal * (1 + 1e-9)
        expl = (f"{target.describe()}: target {goal:,.0f} t in {target.year}; the straight path from {base:,.0f} t in "
                f"{target.base_year} passes {path_now:,.0f} t in {now_year}, emissions were {now_t:,.0f} t; reaching "
                f"the target needs {rate:+.1%} a year from now; the current trend ({g:+.1%}/yr) ends at "
                f"{trend_end:,.0f} t")
        return Assessment(target, now_year, now_t, g, goal, base, path_now, gap, gap / path_now * 100 if path_now else 0.0,
                          rate, None, trend_end, trend_end - goal, on_track, now_t <= goal, expl)
    met = peaked_year is not None and peaked_year <= target.year
    path = peak_path(now_t, g, now_year, target.year)
    slow = (max(g, 0.0) / n) if n > 0 else max(g, 0.0)
    first = float(path[1] / path[0] - 1) if len(path) > 1 and path[0] > 0 else min(g, 0.0)
    if met or g <= 0:
        first, slow = min(g, 0.0), 0.0
    gap_end = trend_end - float(path[-1])
    expl = (f"{target.describe()}: " + (f"already peaked in {peaked_year}" if met else
            f"growth is {g:+.1%}/yr now; to peak by {target.year} it must slow by {slow * 100:.2f} percentage points "
            f"a year (next year {first:+.1%}), leaving emissions {gap_end:,.0f} t below the current trend in "
            f"{target.year}" if g > 0 else f"emissions are not rising ({g:+.1%}/yr); keeping them from rising again "
            "meets it"))
    return Assessment(target, now_year, now_t, g, float(path[-1]), None, now_t, 0.0, 0.0, first, slow, trend_end,
                      gap_end, met or g <= 0, met, expl)


# ------------------------------------------------------------------------------------------------ levers
@dataclass(frozen=True)
class RegionContext:
    """What the levers need about a region: its power mix (shares of generation, 0..1; None if unknown), grid
    intensity (t CO2 MWh-1; None if unknown) and the process share of its industry CO2 (0..1)."""

    coal_share: float | None = None
    gas_share: float | None = None
    oil_share: float | None = None
    grid_t_per_mwh: float | None = None
    process_share_industry: float = 0.0
    mix_source: str = ""


@dataclass(frozen=True)
class LeverEffect:
    lever: str
    value: float
    effect: str
    sector_factor: dict[str, float] = field(default_factory=dict)
    """Multiplicative factor on each touched sector in the target year."""
    added_power_t: float = 0.0
    """t CO2 yr-1 added to power in the target year (electric vehicles), at the grid intensity after the levers."""


def lever_effects(levers: dict[str, float], ctx: RegionContext, target_year_sectors: dict[str, float]
                  ) -> list[LeverEffect]:
    """Each lever's effect in the target year (see the module doc); :class:`TargetError` for impossible values.

    ``target_year_sectors``: each sector's emissions on the current trend in the target year, t CO2 yr-1."""
    out: list[LeverEffect] = []
    power_factor = 1.0
    intensity = ctx.grid_t_per_mwh
    for name, value in levers.items():
        if name not in LEVERS:
            raise TargetError(f"unknown lever {name!r}; levers: {', '.join(LEVERS)}")
        lo, hi, what = LEVERS[name]
        if not lo <= value <= hi:
            raise TargetError(f"{name}={value:g} is impossible: it is the {what} and must lie between {lo:g} and {hi:g}")
    if "coal_share_power" in levers:
        x = levers["coal_share_power"] / 100
        if ctx.coal_share is None:
            raise TargetError("coal_share_power needs this region's electricity mix, which the dataset release does "
                              "not have for its country (Carbon Monitor Power covers 45 countries); leave it out")
        c0, g0, o0 = ctx.coal_share, ctx.gas_share or 0.0, ctx.oil_share or 0.0
        if x > 1 - g0 - o0 + 1e-9:
            raise TargetError(f"coal_share_power={x * 100:g} is impossible: gas and oil already make "
                              f"{(g0 + o0) * 100:.0f}% of the electricity, so coal can reach at most "
                              f"{(1 - g0 - o0) * 100:.0f}%")
        i0 = c0 * EF_T_PER_MWH["coal"] + g0 * EF_T_PER_MWH["gas"] + o0 * EF_T_PER_MWH["oil"]
        power_factor = 1 + (x - c0) * EF_T_PER_MWH["coal"] / i0 if i0 > 0 else 1.0
        intensity = (intensity if intensity is not None else i0) * power_factor
        out.append(LeverEffect("coal_share_power", levers["coal_share_power"],
                               f"coal {c0:.0%} -> {x:.0%} of generation (the rest non-fossil): power CO2 x "
                               f"{power_factor:.3f} ({ctx.mix_source})", {"power": power_factor}))
    if "industry_energy_intensity_pct" in levers:
        x = levers["industry_energy_intensity_pct"] / 100
        q = min(max(ctx.process_share_industry, 0.0), 1.0)
        f = (1 - q) * (1 + x) + q
        out.append(LeverEffect("industry_energy_intensity_pct", levers["industry_energy_intensity_pct"],
                               f"industrial energy per unit of output {x:+.0%}: combustion CO2 ({1 - q:.0%} of industry) "
                               f"changes alike, process CO2 ({q:.0%}) does not: industry CO2 x {f:.3f}", {"industry": f}))
    if "electric_share_road" in levers:
        x = levers["electric_share_road"] / 100
        f = 1 - ROAD_SHARE * x
        gt = target_year_sectors.get("ground_transport", 0.0)
        grid = intensity if intensity is not None else WORLD_GRID_T_PER_MWH * power_factor
        added = ROAD_SHARE * x * gt / EF_ROAD_FUEL * EV_ENERGY_RATIO * grid
        out.append(LeverEffect("electric_share_road", levers["electric_share_road"],
                               f"{x:.0%} of road vehicle-km electric: ground transport CO2 x {f:.3f}; their electricity "
                               f"adds {added:,.0f} t to power at {grid * 1000:.0f} g/kWh", {"ground_transport": f},
                               added_power_t=added))
    if "building_heat_demand_pct" in levers:
        x = levers["building_heat_demand_pct"] / 100
        f = 1 + HEAT_SHARE * x
        out.append(LeverEffect("building_heat_demand_pct", levers["building_heat_demand_pct"],
                               f"heat demand {x:+.0%}: buildings' CO2 x {f:.3f} (heating is {HEAT_SHARE:.0%} of it)",
                               {"residential": f}))
    return out


# ------------------------------------------------------------------------------------------------ pathway
@dataclass(frozen=True)
class Pathway:
    """Yearly pathway (t CO2 yr-1) per sector; ``years`` now..target year (``now`` = actual emissions)."""

    target: Target
    years: list[int]
    sectors: dict[str, list[float]]
    total: list[float]
    trend_total: list[float]
    levered_total: list[float]
    required_annual_change: dict[str, float]
    trend_growth: dict[str, float]
    implied_peak_year: int
    cumulative_t: float
    cumulative_trend_t: float
    gap_to_trend_t: float
    target_t: float
    reaches_target: bool
    levers: list[LeverEffect]
    method: str


METHOD = ("per sector, the current trend continues its recent growth (Theil-Sen over the last 5 years, clipped to "
          "+-10%/yr); levers change sectors by the target year, phased in linearly; where the levered sectors exceed "
          "the target path of the total (constant annual rate from now to the target level; for a peak target, "
          "growth slowing linearly to zero in the peak year) every sector is scaled by the same factor that year "
          "(equal proportional effort). Cumulative emissions count the years after now through the target year.")


def pathway(target: Target, now_year: int, sector_now: dict[str, float], sector_growth: dict[str, float],
            target_total_t: float | None, levers: dict[str, float], ctx: RegionContext,
            history_years: np.ndarray | None = None, history_totals: np.ndarray | None = None) -> Pathway:
    """The roadmap (see the module doc).  ``sector_now``: each sector's emissions in ``now_year`` (t CO2 yr-1);
    ``sector_growth``: each sector's recent growth (per year); ``target_total_t``: the target level of a cut
    target (None for a peak target); ``history_*``: the region's past annual totals (for the implied peak)."""
    if target.year <= now_year:
        raise TargetError(f"the target year {target.year} must be after {now_year}, the last complete year of data")
    years = np.arange(now_year, target.year + 1)
    n = len(years) - 1
    frac = (years - now_year) / n
    names = [s for s in SECTORS if s in sector_now]
    g = {s: float(np.clip(sector_growth.get(s, 0.0), -MAX_TREND, MAX_TREND)) for s in names}
    trend = {s: sector_now[s] * (1 + g[s]) ** (years - now_year) for s in names}
    effects = lever_effects(levers, ctx, {s: float(trend[s][-1]) for s in names})
    lev = {s: trend[s].copy() for s in names}
    for e in effects:
        for s, f in e.sector_factor.items():
            if s in lev:
                lev[s] = lev[s] * (1 + (f - 1) * frac)
        if e.added_power_t and "power" in lev:
            lev["power"] = lev["power"] + e.added_power_t * frac
    lev_total = np.sum([lev[s] for s in names], axis=0)
    now_total = float(sum(sector_now.values()))
    total_trend_growth = (float(lev_total[-1] / lev_total[0]) ** (1 / n) - 1) if lev_total[0] > 0 else 0.0
    if target.kind == "cut":
        assert target_total_t is not None
        goal = float(target_total_t)
        path = now_total * (goal / now_total) ** frac if now_total > 0 and goal > 0 else now_total * (1 - frac)
    else:
        tg = trend_growth(history_totals, TREND_YEARS) if history_totals is not None and len(history_totals) > 1 \
            else total_trend_growth
        path = peak_path(now_total, float(np.clip(tg, -MAX_TREND, MAX_TREND)), now_year, target.year)
        goal = float(path[-1])
    scale = np.minimum(1.0, np.where(lev_total > 0, path / np.maximum(lev_total, 1e-12), 1.0))
    scale[0] = 1.0
    final = {s: lev[s] * scale for s in names}
    total = np.sum([final[s] for s in names], axis=0)
    trend_total = np.sum([trend[s] for s in names], axis=0)
    req = {s: ((final[s][-1] / final[s][0]) ** (1 / n) - 1) if final[s][0] > 0 else 0.0 for s in names}
    hy = np.asarray(history_years if history_years is not None else [], dtype=np.int64)
    ht = np.asarray(history_totals if history_totals is not None else [], dtype=np.float64)
    past = hy < now_year
    all_years, all_tot = np.concatenate([hy[past], years]), np.concatenate([ht[past], total])
    peak = int(all_years[int(np.argmax(all_tot))])
    return Pathway(
        target=target, years=[int(y) for y in years], sectors={s: final[s].tolist() for s in names},
        total=total.tolist(), trend_total=trend_total.tolist(), levered_total=lev_total.tolist(),
        required_annual_change=req, trend_growth=g, implied_peak_year=peak,
        cumulative_t=float(total[1:].sum()), cumulative_trend_t=float(trend_total[1:].sum()),
        gap_to_trend_t=float(trend_total[-1] - total[-1]), target_t=goal,
        reaches_target=bool(total[-1] <= goal * (1 + 1e-9)), levers=effects, method=METHOD)


# ------------------------------------------------------------------------------------------------ a region's plan
def assess_region(target: Target, years: np.ndarray, totals_t: np.ndarray, peak: PeakResult,
                  base_value_t: float | None = None) -> Assessment:
    """:func:`assess_target` for a region's consecutive annual totals ``totals_t`` (year,) t CO2 yr-1 and its peak
    verdict (``peak.peak_year`` counts only for 'peaked'); fewer than two years is a :class:`TargetError`."""
    if len(years) < 2:
        raise TargetError("this region has fewer than two complete years of data; a target needs a trend")
    peaked = peak.peak_year if peak.verdict == "peaked" else None
    return assess_target(target, years, totals_t, peaked, base_value_t)


def region_pathway(a: Assessment, years: np.ndarray, totals_t: np.ndarray, sectors_t: dict[str, np.ndarray] | None,
                   levers: dict[str, float], ctx: RegionContext) -> Pathway:
    """The roadmap (:func:`pathway`) of a region from its assessment ``a`` and its annual history: ``years``,
    ``totals_t`` (year,) and ``sectors_t`` per sector (year,), t CO2 yr-1; each sector starts from its last year
    and its recent trend (:func:`nowcast.peak.trend_growth`).  A region without sector history, or without
    emissions in its last year, is a :class:`TargetError`."""
    if sectors_t is None:
        raise TargetError("this region has no sector history to project; try its country")
    sector_now = {s: float(v[-1]) for s, v in sectors_t.items()}
    if sum(sector_now.values()) <= 0:
        raise TargetError(f"this region emitted nothing in {a.now_year}, so there is no pathway to plan; pick a "
                          "region with emissions")
    growth = {s: trend_growth(v, TREND_YEARS) for s, v in sectors_t.items()}
    return pathway(a.target, a.now_year, sector_now, growth, a.target_t if a.target.kind == "cut" else None, levers,
                   ctx, years, totals_t)


def region_context(power_mix: pd.DataFrame | None, history: pd.DataFrame | None,
                   sector_history: pd.DataFrame | None, home: str | None) -> RegionContext:
    """What the levers need about the ``home`` country, from the release tables: its generation mix and grid
    intensity (``power_mix``: ``iso3``, ``year``, ``{coal,gas,oil,total}_twh``, ``grid_t_per_mwh`` t CO2 MWh-1) and
    industry's process share (cement and flaring over industry CO2 in the last inventory year, from ``history``
    and ``sector_history``, Mt CO2 yr-1)."""
    coal = gas = oil = grid = None
    source = ""
    if power_mix is not None and home is not None:
        row = power_mix[power_mix["iso3"] == home]
        if len(row):
            r = row.iloc[0]
            if pd.notna(r.get("total_twh")) and r.get("total_twh", 0) > 0:
                coal, gas, oil = (float(r[f"{f}_twh"] / r["total_twh"]) for f in ("coal", "gas", "oil"))
                source = f"{home}'s generation in {int(r['year'])} (Carbon Monitor Power)"
            if pd.notna(r.get("grid_t_per_mwh")):
                grid = float(r["grid_t_per_mwh"])
    process = 0.0
    h, sh = history, sector_history
    if h is not None and sh is not None and home is not None:
        last = h[(h["iso3"] == home) & h["total"].notna()].sort_values("year").tail(1)
        srow = sh[(sh["iso3"] == home) & (sh["year"] == (int(last["year"].iloc[0]) if len(last) else -1))]
        if len(last) and len(srow) and float(srow["industry"].iloc[0]) > 0:
            proc = float(np.nansum([last["cement"].iloc[0], last["flaring"].iloc[0]]))
            process = min(1.0, proc / float(srow["industry"].iloc[0]))
    return RegionContext(coal, gas, oil, grid, process, source)
