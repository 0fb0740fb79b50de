"""The one table mapping each inventory's sectors to carbonmap's national sectors.

Rows are ``(inventory, inventory_sector, carbonmap_sector, fraction, note)``.  An inventory sector
may be split over several carbonmap sectors; its fractions then sum to 1.  Sectors mapped to
``None`` are excluded from national shares (aggregates, land use, or international bunkers, which
carbonmap takes from GCB's ``XIA``/``XIS`` rows instead).  :func:`render_markdown` writes this
table to ``docs/sector_map.md``.

Domestic aviation is not a separate sector in EDGAR v5 (FT2018, 5-sector table) nor in the CAIT
table: it is inside ``Transport``.  carbonmap takes a constant :data:`DOMESTIC_AVIATION_SHARE_OF_TRANSPORT`
of Transport as domestic aviation.  This is a **simplified proxy**; its basis: ICCT (Graver, Zhang &
Rutherford 2019, "CO2 emissions from commercial aviation, 2018") found 918 Mt CO2 from commercial
aviation in 2018, about 40 % (~370 Mt) from domestic flights, while IEA puts 2018 transport CO2
at ~8.2 Gt, of which ~1.3 Gt are international aviation and shipping bunkers; 370 / (8,200 - 1,300)
= 5.4 %, rounded to 5 %.  Real national shares vary widely (USA ~ 8 %, most small countries ~ 0-2 %).
"""

from __future__ import annotations

from dataclasses import dataclass

from carbonmap.contract import NATIONAL_SECTORS, SECTOR_LONG_NAMES

DOMESTIC_AVIATION_SHARE_OF_TRANSPORT = 0.05
"""Fraction of an inventory's (domestic) Transport taken as domestic aviation; simplified proxy."""


@dataclass(frozen=True)
class SectorMapRow:
    inventory: str
    inventory_sector: str
    carbonmap_sector: str | None
    fraction: float
    note: str = ""


_DA = DOMESTIC_AVIATION_SHARE_OF_TRANSPORT
_DA_NOTE = f"constant {_DA:.0%} of Transport (simplified proxy, see module docstring)"

SECTOR_MAP: tuple[SectorMapRow, ...] = (
    # EDGAR v5.0 FT2018 (5 aggregated sectors, openclimatedata table)
    SectorMapRow("edgar_v5", "Power Industry", "power", 1.0, "IPCC 1A1a public electricity and heat"),
    SectorMapRow("edgar_v5", "Other industrial combustion", "industry", 1.0,
                 "1A2 manufacturing + 1A1b/c refineries and other energy industries"),
    SectorMapRow("edgar_v5", "Other sectors", "industry", 1.0,
                 "process emissions (cement, chemicals), flaring, fuel use in agriculture/fishing, waste"),
    SectorMapRow("edgar_v5", "Buildings", "residential", 1.0, "1A4 residential and commercial/institutional"),
    SectorMapRow("edgar_v5", "Transport", "ground_transport", 1.0 - _DA, "1A3 road, rail, inland navigation, other"),
    SectorMapRow("edgar_v5", "Transport", "domestic_aviation", _DA, _DA_NOTE),
    SectorMapRow("edgar_v5", "AIR (pseudo-country)", None, 1.0, "international aviation: taken from GCB XIA"),
    SectorMapRow("edgar_v5", "SEA (pseudo-country)", None, 1.0, "international shipping: taken from GCB XIS"),
    # CAIT / Climate Watch (OWID 2021 extract), CO2 only
    SectorMapRow("cait", "Electricity and heat", "power", 1.0, ""),
    SectorMapRow("cait", "Manufacturing and construction", "industry", 1.0, "fuel combustion in industry"),
    SectorMapRow("cait", "Industry", "industry", 1.0, "industrial processes (cement clinker etc.)"),
    SectorMapRow("cait", "Fugitive emissions", "industry", 1.0, "flaring and venting"),
    SectorMapRow("cait", "Other fuel combustion", "industry", 1.0,
                 "agriculture/fishing/unallocated fuel combustion (same home as EDGAR 'Other sectors')"),
    SectorMapRow("cait", "Buildings", "residential", 1.0, "residential and commercial"),
    SectorMapRow("cait", "Transport", "ground_transport", 1.0 - _DA, "domestic transport"),
    SectorMapRow("cait", "Transport", "domestic_aviation", _DA, _DA_NOTE),
    SectorMapRow("cait", "Aviation and shipping", None, 1.0, "international bunkers: taken from GCB XIA/XIS"),
    SectorMapRow("cait", "Land-use change and forestry", None, 1.0, "not fossil"),
    SectorMapRow("cait", "Energy", None, 1.0, "aggregate of the energy rows above"),
    SectorMapRow("cait", "Total excluding LUCF", None, 1.0, "aggregate"),
    SectorMapRow("cait", "Total including LUCF", None, 1.0, "aggregate"),
    # EDGAR 2024 GHG booklet (8 sectors, sheet GHG_by_sector_and_country), Substance CO2 only
    SectorMapRow("edgar_2024", "Power Industry", "power", 1.0, "1A1a public electricity and heat"),
    SectorMapRow("edgar_2024", "Industrial Combustion", "industry", 1.0, "1A2 manufacturing and construction"),
    SectorMapRow("edgar_2024", "Processes", "industry", 1.0, "2 industrial processes (cement, chemicals, metals)"),
    SectorMapRow("edgar_2024", "Fuel Exploitation", "industry", 1.0,
                 "1A1b/c refineries and fuel production, 1B flaring and venting"),
    SectorMapRow("edgar_2024", "Buildings", "residential", 1.0,
                 "1A4 residential, commercial/institutional, agriculture/fishing fuel use"),
    SectorMapRow("edgar_2024", "Transport", "ground_transport", 1.0 - _DA, "1A3 domestic transport"),
    SectorMapRow("edgar_2024", "Transport", "domestic_aviation", _DA, _DA_NOTE),
    SectorMapRow("edgar_2024", "Agriculture", None, 1.0, "liming and urea CO2: not fossil fuel, not in GCB fossil"),
    SectorMapRow("edgar_2024", "Waste", None, 1.0, "waste incineration CO2: not in GCB fossil"),
    SectorMapRow("edgar_2024", "AIR (pseudo-country)", None, 1.0, "international aviation: taken from GCB XIA"),
    SectorMapRow("edgar_2024", "SEA (pseudo-country)", None, 1.0, "international shipping: taken from GCB XIS"),
)


def mapping_for(inventory: str) -> dict[str, dict[str, float]]:
    """``{inventory_sector: {carbonmap_sector: fraction}}`` for the mapped (non-excluded) sectors."""
    out: dict[str, dict[str, float]] = {}
    for r in SECTOR_MAP:
        if r.inventory == inventory and r.carbonmap_sector is not None:
            out.setdefault(r.inventory_sector, {})[r.carbonmap_sector] = r.fraction
    if not out:
        raise KeyError(f"no sector map for inventory {inventory!r}")
    return out


def check_sector_map() -> None:
    """Fractions of each inventory sector sum to 1 and only known sectors are targets."""
    sums: dict[tuple[str, str], float] = {}
    for r in SECTOR_MAP:
        if r.carbonmap_sector is not None and r.carbonmap_sector not in NATIONAL_SECTORS:
            raise ValueError(f"sector map targets unknown sector {r.carbonmap_sector!r}")
        sums[(r.inventory, r.inventory_sector)] = sums.get((r.inventory, r.inventory_sector), 0.0) + r.fraction
    for key, s in sums.items():
        if abs(s - 1.0) > 1e-12:
            raise ValueError(f"fractions of {key} sum to {s}, not 1")


def render_markdown() -> str:
    """The sector map as a Markdown document (written to docs/sector_map.md)."""
    lines = [
        "# Sector map: inventory sectors -> carbonmap sectors",
        "",
        ("Generated from `ingest/sector_map.py` (`python -m ingest.sector_map > docs/sector_map.md`); "
         "edit the table there, not here."),
        "",
        ("carbonmap's national sectors: " + ", ".join(f"`{s}` ({SECTOR_LONG_NAMES[s]})" for s in NATIONAL_SECTORS)
         + ". International aviation and shipping come from GCB's `XIA` and `XIS` rows, not from these inventories."),
        "",
        "| inventory | inventory sector | carbonmap sector | fraction | note |",
        "|---|---|---|---|---|",
    ]
    for r in SECTOR_MAP:
        lines.append(f"| {r.inventory} | {r.inventory_sector} | {r.carbonmap_sector or '(excluded)'} | "
                     f"{r.fraction:g} | {r.note} |")
    lines += [
        "",
        "## How national shares are formed (`ingest.sector_shares.national_sector_shares`)",
        "",
        ("1. **EDGAR first** (`inventory='edgar_v5'` by default, or `'edgar_2024'` for the current booklet table "
         "read by `ingest.edgar_current`). For each country, the latest year (EDGAR v5: up to 2018; EDGAR 2024: "
         "up to 2023) whose mapped total is "
         "positive gives the shares of the 5 national sectors. EDGAR's grouped codes (`FRA_MCO`, `ITA_SMR_VAT`, "
         "`ISR_PSE`, `ESP_AND`, `SDN_SSD`, `CHE_LIE`, `CSXX` = Serbia, Montenegro, Kosovo) pass their shares to "
         "each member country."),
        ("2. **CAIT where EDGAR lacks the country**, same latest-year rule; CAIT country names are mapped to ISO3 "
         "with the explicit table in `ingest/country_names.py`. Negative sector values (rare) are set to 0."),
        ("3. **Global-mean fallback** for countries in neither: the emission-weighted mean shares of all "
         "EDGAR countries in their latest year. These countries are listed in `shares.attrs['fallback_iso3']`."),
        ("4. **Carry-forward:** the shares of that latest year are used unchanged for every later year "
         "(2019-2024 and the nowcast); GCB sets the level of the national total, the shares only split it."),
        "",
        (f"Domestic aviation is a **simplified proxy**: a constant {DOMESTIC_AVIATION_SHARE_OF_TRANSPORT:.0%} of "
         "Transport (ICCT 2019: ~370 Mt domestic commercial aviation in 2018 over ~6.9 Gt of domestic transport)."),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown())
