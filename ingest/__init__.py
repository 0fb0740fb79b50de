"""carbonmap ingest stage: one adapter per real source behind one small protocol (``ingest.base``).

Readers the pipeline uses: ``gcb.read_gcb``, ``edgar.read_edgar_v5``, ``cait.read_cait``,
``sector_shares.national_sector_shares``, ``gpw.read_gpw_ascii``, ``power_plants.read_gppd_sources`` /
``read_jrc_ppdb``, ``boundaries.read_countries`` / ``coverage_fractions`` / ``cached_country_coverage``,
``airports.read_airports``, ``ports.read_ports``, ``night_lights.read_city_lights``.
``registry.list_sources(data_dir)`` feeds ``carbonmap ingest --list``.  Settings come from the caller: an adapter
reads them when it is made (``BaseAdapter(settings)``); module-level helpers take ``settings`` from their caller.
"""
