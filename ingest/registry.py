"""The registry of ingest sources, for ``carbonmap ingest --list`` and ``carbonmap ingest SOURCE``.

``SOURCES`` maps a source name to its :class:`~ingest.base.SourceInfo`; :func:`adapter` returns the
adapter instance; :func:`list_sources` returns rows the CLI can print (name, title, kind, licence,
whether real data ships in ``data/``, whether the shipped data is a simplified proxy).
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from ingest.base import BaseAdapter, IngestError, SourceInfo

_ADAPTERS: dict[str, str] = {
    "gcb": "ingest.gcb:GCBAdapter",
    "edgar": "ingest.edgar:EDGARAdapter",
    "edgar_2024": "ingest.edgar_current:EDGARCurrentAdapter",
    "cait": "ingest.cait:CAITAdapter",
    "gpw": "ingest.gpw:GPWAdapter",
    "gppd": "ingest.power_plants:GPPDAdapter",
    "jrc_ppdb": "ingest.power_plants:JRCPPDBAdapter",
    "natural_earth": "ingest.boundaries:NaturalEarthCountriesAdapter",
    "airports": "ingest.airports:AirportsAdapter",
    "ports": "ingest.ports:PortsAdapter",
    "city_lights": "ingest.night_lights:CityLightsAdapter",
    "era5": "ingest.era5:ERA5Adapter",
    "era5_country_monthly": "ingest.era5:ERA5MonthlyCountryAdapter",
    "era5_country_daily": "ingest.era5:ERA5DailyNationalAdapter",
    "temperature_stations": "ingest.era5:StationTemperatureAdapter",
    "eia930": "ingest.eia930:EIA930Adapter",
    "eia930_demand": "ingest.eia930:EIA930DemandAdapter",
    "tropomi": "ingest.tropomi:TropomiAdapter",
    "entsoe": "ingest.entsoe:ENTSOEAdapter",
    "ember": "ingest.ember:EmberAdapter",
    "noaa_gml_daily": "ingest.noaa_gml:NOAAGMLDailyAdapter",
    "noaa_gml_monthly": "ingest.noaa_gml:NOAAGMLMonthlyAdapter",
    "firms": "ingest.firms:FIRMSAdapter",
    "omi": "ingest.omi:OMIAdapter",
    "viirs": "ingest.viirs:VIIRSAdapter",
    "cdiac": "ingest.cdiac:CDIACAdapter",
    "edgar_grid": "ingest.edgar_grid:EDGARGridAdapter",
    "cm_power": "ingest.cm_power:CMPowerAdapter",
    "cm_power_iea": "ingest.cm_power:CMPowerIEAAdapter",
    "ember_api": "ingest.ember_api:EmberAPIAdapter",
    "posoco": "ingest.india_grid:POSOCOAdapter",
    "cea_dgr": "ingest.india_grid:CEADGRAdapter",
    "nbs_china_monthly": "ingest.china_monthly:NBSChinaMonthlyAdapter",
    "china_apparent_consumption": "ingest.china_monthly:ChinaApparentConsumptionAdapter",
    "nbs_china_province_monthly": "ingest.china_monthly:NBSChinaProvinceAdapter",
    "crea_china_co2": "ingest.crea_china_co2:CreaChinaCO2Adapter",
    "cicero_eu_monthly_co2": "ingest.cicero_monthly_co2:CiceroEuropeCO2Adapter",
    "cicero_india_monthly_co2": "ingest.cicero_monthly_co2:CiceroIndiaCO2Adapter",
    "india_ppac_oil": "ingest.india_monthly:IndiaOilAdapter",
    "india_ppac_gas": "ingest.india_monthly:IndiaGasAdapter",
    "india_coal": "ingest.india_monthly:IndiaCoalAdapter",
    "eurocontrol": "ingest.eurocontrol:EurocontrolAdapter",
    "bunkers_singapore": "ingest.bunkers:SingaporeBunkersAdapter",
    "bunkers_rotterdam": "ingest.bunkers:RotterdamBunkersAdapter",
    "edgar_v7": "ingest.edgar_v7:EDGARv7Adapter",
    "ceads": "ingest.ceads:CEADsAdapter",
    "gcb_extra": "ingest.gcb_extra:GCBExtraAdapter",
    "gem_coal": "ingest.gem_coal:GEMCoalAdapter",
    "gem_steel": "ingest.gem_steel:GEMSteelAdapter",
    "gem_cement": "ingest.gem_cement:GEMCementAdapter",
    "sfi": "ingest.sfi:SFIAdapter",
    "nbs_china_province_output": "ingest.china_provinces:ChinaProvinceOutputAdapter",
    "facility_emissions": "ingest.facility_emissions:FacilityEmissionsAdapter",
    "us_ghgrp": "ingest.ghgrp:GHGRPAdapter",
    "airport_traffic": "ingest.airport_traffic:AirportTrafficAdapter",
    "shipping_lanes": "ingest.shipping_lanes:ShippingLanesAdapter",
    "admin1": "ingest.admin1:Admin1Adapter",
}
"""Source name -> ``module:AdapterClass`` (imported lazily, so listing is cheap)."""


def adapter(name: str) -> BaseAdapter:
    """The adapter of source ``name``; IngestError listing the known names otherwise."""
    try:
        target = _ADAPTERS[name]
    except KeyError:
        raise IngestError(f"unknown ingest source {name!r}; known sources: {', '.join(sorted(_ADAPTERS))}") from None
    mod, cls = target.split(":")
    return getattr(import_module(mod), cls)()


def source_info(name: str) -> SourceInfo:
    return adapter(name).info


def sources() -> dict[str, SourceInfo]:
    """All registered sources by name."""
    return {n: source_info(n) for n in _ADAPTERS}


def list_sources(data_dir: Path) -> list[dict[str, str | bool]]:
    """One row per source: name, title, kind, licence, url, ships_in_data, real, note.

    ``ships_in_data`` is False for fixture-only sources (no real file in ``data/``; their readers are
    tested on format-exact synthetic fixtures, and their ``note`` says so).
    """
    root = Path(data_dir)  # the caller's Settings.data_dir
    rows: list[dict[str, str | bool]] = []
    for name, info in sources().items():
        ships = bool(info.shipped) and all((root / p).exists() for p in info.shipped)
        rows.append({"name": name, "title": info.title, "kind": info.kind, "licence": info.licence, "url": info.url,
                     "ships_in_data": ships, "real": info.real, "note": info.note})
    return rows
