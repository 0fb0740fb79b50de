"""The one configuration class of carbonmap (environment prefix ``CARBONMAP_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """All settings; read once from the environment or a ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="CARBONMAP_", env_file=".env", extra="ignore")

    data_dir: Path = Field(REPO_ROOT / "data", description="shipped real input data")
    cache_dir: Path = Field(REPO_ROOT / ".cache", description="download cache and derived inputs")
    stores_dir: Path = Field(REPO_ROOT / "stores", description="where built cubes live")
    stores: list[Path] = Field(default_factory=list, description="extra cube stores to serve")

    dask_scheduler: str | None = Field(None, description="address of a Dask scheduler; None = LocalCluster")
    dask_workers: int = Field(2, ge=1, description="LocalCluster worker processes")
    dask_threads_per_worker: int = Field(1, ge=1)
    dask_processes: bool = Field(True, description="LocalCluster workers as processes (False: threads in the "
                                 "calling process, which starts in well under a second; for small grids and tests)")
    dask_memory_limit: str = Field("6GB", description="per LocalCluster worker")

    host: str = "127.0.0.1"
    port: int = 8000
    serve_workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes of `carbonmap serve` (one per "
                               "core; each keeps its own tile, chunk and weight caches)")
    serve_threads: int = Field(4, ge=1, le=256, description="requests one server process works on at once; the rest "
                               "wait their turn in arrival order (on a saturated server first-come-first-served "
                               "keeps the slowest answers close to the typical one, where 40 threads sharing the "
                               "GIL made every answer wait for all the others; measured in bench/load.py)")
    serve_keep_alive_s: int = Field(75, ge=1, description="seconds an idle keep-alive connection stays open (uvicorn's "
                                    "5 s closed connections a busy client was about to reuse: transport errors "
                                    "under load; 75 s as nginx)")
    serve_keep_alive_requests: int = Field(100, ge=1, description="requests a keep-alive connection serves before the "
                                           "server asks the client to reconnect, so a new connection can land on "
                                           "the least busy worker process (api/connections.py)")
    serve_warmup: bool = Field(True, description="a server process sends each dataset a tile per layer, a region "
                               "query and an analysis before it takes traffic (api/warmup.py)")
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    trusted_proxies: list[str] = Field(default_factory=list, description="peers (IP addresses or CIDR networks, "
                                       "'*' = any) whose X-Forwarded-Proto/-Host/-Prefix headers set the scheme, "
                                       "host and path prefix of the links the server builds; empty = ignore them")

    max_query_days: int = Field(3660, description="longest period a query may ask for")
    max_vertices: int = Field(20000, description="most vertices in a posted geometry")
    max_cells_days: int = Field(2_000_000_000, description="most grid cells x days one query may touch")
    max_query_cell_steps: int = Field(60_000_000, ge=1, description="most grid cells x time steps one region query "
                                      "reads from the time-series layout (a window of days is 2 steps: two "
                                      "cumulative sums); the smaller of this and max_cells_days applies")
    max_body_bytes: int = Field(5_000_000, description="largest request body")
    max_download_values: int = Field(250_000_000, ge=1, description="output values (cells x steps x sectors) of one "
                                     "download; a global 0.25 degree month, daily, 7 sectors is 225 M")
    max_download_read_values: int = Field(4_000_000_000, ge=1, description="values read (cells x days x sectors) by "
                                          "one download (monthly means or annual totals of a global year: 2.66 G)")
    max_release_diff_rows: int = Field(100_000, ge=1,
                                       description="changed (day, sector, country) rows one release diff may return")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint for s3:// stores (None = AWS)")
    s3_region: str | None = Field(None, description="S3 region for s3:// stores")
    s3_access_key_id: str | None = Field(None, description="S3 key id (None = standard AWS credential chain)")
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret key")
    s3_pointer_ttl_s: float = Field(2.0, ge=0, description="seconds a server trusts the CURRENT object it read from "
                                    "an s3:// store before it reads it again (each read is a GET: without this "
                                    "every request paid a round trip); a publish is seen within this delay")
    s3_lock_ttl_s: float = Field(900.0, gt=0, description="seconds without a heartbeat after which the writer "
                                 "lock of an s3:// store is stale and may be taken over (the holder beats every "
                                 "quarter of it)")
    releases_keep: int = Field(0, ge=0, description="releases kept by `carbonmap update --prune` (0 = all)")
    registry_cached_releases: int = Field(4, ge=1, description="pinned past releases kept open per server")
    release_files_kinds: list[str] = Field(default_factory=lambda: ["daily", "monthly-mean", "annual-total",
                                                                    "national-daily"],
                                           description="release files written when a release is published "
                                                       "(pipelines.release_files.KINDS); [] writes none")
    release_daily_months: int = Field(0, ge=0, description="months (the latest) that get a daily NetCDF release file; "
                                      "0 (default) = every month. A 0.25 degree month costs ~3 s of one core and "
                                      "~105 MB; monthly means ~1 s and 16 MB")
    cds_api_key: SecretStr | None = Field(None, description="Copernicus Climate Data Store personal access token (ERA5)")
    cds_url: str = Field("https://cds.climate.copernicus.eu/api", description="CDS API root")
    cdse_token: SecretStr | None = Field(None, description="Copernicus Data Space Ecosystem OAuth access token (TROPOMI)")
    cdse_catalogue_url: str = Field("https://catalogue.dataspace.copernicus.eu/odata/v1", description="CDSE OData catalogue")
    cdse_download_url: str = Field("https://download.dataspace.copernicus.eu/odata/v1", description="CDSE OData download")
    entsoe_token: SecretStr | None = Field(None, description="ENTSO-E Transparency Platform RESTful API security token")
    entsoe_url: str = Field("https://web-api.tp.entsoe.eu/api", description="ENTSO-E RESTful API endpoint")
    earthdata_token: SecretStr | None = Field(None, description="NASA Earthdata Login user token (bearer; OMI OMNO2d, VIIRS VNP46A2)")
    cmr_url: str = Field("https://cmr.earthdata.nasa.gov/search", description="NASA CMR search API root")
    firms_map_key: SecretStr | None = Field(None, description="NASA FIRMS MAP_KEY (area API)")
    firms_url: str = Field("https://firms.modaps.eosdis.nasa.gov/api/area/csv", description="FIRMS area API (CSV) root")
    cdiac_url: str = Field("https://raw.githubusercontent.com/beefoo/coloring-book/615950cd32f0161930d026e3e0be1d956ba022cd/co2/gridcar",
                           description="folder holding uncompressed CDIAC NDP-058 v2016 gridcar.<yyyy> + SUMMARY.MASS.DAT")
    tile_cache_items: int = Field(4096, description="encoded tiles kept in memory")
    chunk_cache_bytes: int = Field(512 * 2**20, description="decoded chunks kept in memory")
    region_cache_items: int = Field(256, ge=1, description="region geometries (posted or catalogue) whose parsed form, "
                                    "cell weights and country groups one app keeps (LRU; a city's weights are "
                                    "KB, a large country's a few MB)")
    query_chunk_cache_bytes: int = Field(256 * 2**20, ge=0, description="decoded time-series chunks one app keeps "
                                         "in memory for region queries (0 = none)")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests clear this cache to change them)."""
    return Settings()
