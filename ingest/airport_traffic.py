"""Scheduled departures per airport for one month (OpenTravelData schedules x OpenFlights airports).

Shipped file: ``activity/aviation/airport_departures_2016-08_optd_x_openflights.csv.gz`` with columns
``iata, name, city, country, icao, lat, lon, departures, seats, dom_departures, dom_seats``: one row per
departure airport, August 2016.  It is the join of two published files, and :func:`build_airport_departures`
rebuilds it from them exactly (checked: same 3,446 airports, departures, seats and domestic counts):

- OpenTravelData ``optd_airline_segs_mthly_201608.csv.bz2`` (``;``-separated: ``#legori, legdes,
  operating_airline, deptdtYYYYMM, capacity, frequency``): scheduled flights (``frequency``) and seats
  (``capacity``) per airline and airport pair in the month.  CC BY 4.0.
- OpenFlights ``airports.dat`` (no header: id, name, city, country, IATA, ICAO, lat, lon, altitude, ...),
  whose coordinates and country names are used.  ODbL (share-alike).

``departures`` = all scheduled departures from the airport in the month, ``dom_departures`` those to an
airport in the same OpenFlights country (so Netherlands Antilles islands count as one country).  The
joined file keeps only airports OpenFlights locates: 3,034,918 of OPTD's 3,056,818 departures (99.3 %).

Units: flights (departures) per month, seats per month; lon/lat in degrees (EPSG:4326).  OPTD publishes
such monthly segment files only for 2016-08 and 2017-08: this is a spatial proxy (where flights leave
from), not a time series, so no publication lag is registered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from ingest.base import BaseAdapter, Data, IngestError, SourceInfo
from ingest.country_names import NAME_TO_ISO3

DEPARTURES_FILE = "activity/aviation/airport_departures_2016-08_optd_x_openflights.csv.gz"
SEGMENTS_URL = ("https://raw.githubusercontent.com/opentraveldata/opentraveldata/master/opentraveldata/"
                "network/20160813/optd_airline_segs_mthly_{yyyymm}.csv.bz2")
SEGMENT_MONTHS = ("201608", "201708")
AIRPORTS_URL = "https://raw.githubusercontent.com/jpatokal/openflights/master/data/airports.dat"
JOINED_COLUMNS = ("iata", "name", "city", "country", "icao", "lat", "lon", "departures", "seats",
                  "dom_departures", "dom_seats")
OUT_COLUMNS = ("iata", "icao", "name", "iso3", "lon", "lat", "departures_domestic", "departures_international",
               "departures", "seats", "period")
MAX_MONTHLY_DEPARTURES = 60_000
"""No airport has more scheduled departures in a month (ATL: 38,472 in 2016-08); a units check."""

OPENFLIGHTS_NAMES: dict[str, str] = {
    "American Samoa": "ASM", "Anguilla": "AIA", "Aruba": "ABW", "Bermuda": "BMU", "British Virgin Islands": "VGB",
    "Burma": "MMR", "Cayman Islands": "CYM", "Christmas Island": "CXR", "Cocos (Keeling) Islands": "CCK",
    "Congo (Brazzaville)": "COG", "Congo (Kinshasa)": "COD", "East Timor": "TLS", "Falkland Islands": "FLK",
    "Faroe Islands": "FRO", "French Guiana": "GUF", "French Polynesia": "PYF", "Gibraltar": "GIB",
    "Greenland": "GRL", "Guadeloupe": "GLP", "Guam": "GUM", "Guernsey": "GGY", "Hong Kong": "HKG",
    "Isle of Man": "IMN", "Jersey": "JEY", "Macau": "MAC", "Martinique": "MTQ", "Mayotte": "MYT",
    "Micronesia": "FSM", "Montserrat": "MSR", "New Caledonia": "NCL", "Norfolk Island": "NFK",
    "Northern Mariana Islands": "MNP", "Puerto Rico": "PRI", "Reunion": "REU", "Saint Pierre and Miquelon": "SPM",
    "Taiwan": "TWN", "Turks and Caicos Islands": "TCA", "Virgin Islands": "VIR", "Wallis and Futuna": "WLF",
    "Western Sahara": "ESH", "Palestine": "PSE", "Saint Helena": "SHN", "Svalbard": "SJM",
}
"""OpenFlights country names that :data:`ingest.country_names.NAME_TO_ISO3` lacks."""
NETHERLANDS_ANTILLES_IATA: dict[str, str] = {"CUR": "CUW", "BON": "BES", "EUX": "BES", "SAB": "BES", "SXM": "SXM"}
"""OpenFlights still says "Netherlands Antilles" (dissolved 2010): ISO3 by airport."""

INFO = SourceInfo(
    name="airport_traffic",
    title="Scheduled departures per airport, one month (OpenTravelData schedules x OpenFlights airports)",
    kind="activity",
    licence="OpenTravelData CC BY 4.0; OpenFlights airports ODbL (share-alike)",
    url="https://github.com/opentraveldata/opentraveldata",
    shipped=(DEPARTURES_FILE,),
    note="August 2016 only (OPTD monthly segments exist for 2016-08 and 2017-08): a spatial proxy",
)


def country_iso3(country: pd.Series, iata: pd.Series, name: str = "airports") -> pd.Series:
    """ISO3 of OpenFlights country names (IngestError listing unknown names)."""
    iso = country.map(lambda c: NAME_TO_ISO3.get(c) or OPENFLIGHTS_NAMES.get(c))
    na = country == "Netherlands Antilles"
    iso[na] = iata[na].map(NETHERLANDS_ANTILLES_IATA).fillna("ANT")
    unknown = sorted(set(country[iso.isna()]))
    if unknown:
        raise IngestError(f"{name}: unknown OpenFlights country name(s) {unknown}; add them to OPENFLIGHTS_NAMES")
    return iso


def _period_of(path: Path) -> pd.Timestamp:
    m = re.search(r"(\d{4})-?(\d{2})(?!\d)", Path(path).name)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise IngestError(f"{Path(path).name}: cannot tell the month from the file name (expected YYYY-MM in it)")
    return pd.Timestamp(int(m.group(1)), int(m.group(2)), 1)


def normalise(raw: pd.DataFrame, period: pd.Timestamp, name: str) -> pd.DataFrame:
    """The joined layout (:data:`JOINED_COLUMNS`) -> :data:`OUT_COLUMNS`, validated."""
    missing = [c for c in JOINED_COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(f"{name} lacks the column(s) {missing}; found {list(raw.columns)}")
    if raw.empty:
        raise IngestError(f"{name} has no airports")
    num = {c: pd.to_numeric(raw[c], errors="coerce") for c in ("lat", "lon", "departures", "seats",
                                                                 "dom_departures", "dom_seats")}
    for c, v in num.items():
        if v.isna().any():
            raise IngestError(f"{name}: non-numeric or missing {c} for {raw.loc[v.isna(), 'iata'].iloc[0]!r}")
    dep, dom = num["departures"], num["dom_departures"]
    if ((dep < 0) | (dom < 0) | (dom > dep) | (dep != dep.round()) | (dom != dom.round())).any():
        bad = raw.loc[(dep < 0) | (dom < 0) | (dom > dep) | (dep != dep.round()), "iata"]
        raise IngestError(f"{name}: departures must be whole, >= 0 and >= the domestic ones (airport "
                          f"{bad.iloc[0] if len(bad) else '?'!r})")
    if (dep > MAX_MONTHLY_DEPARTURES).any():
        raise IngestError(f"{name}: {raw.loc[dep.idxmax(), 'iata']} has {dep.max():,.0f} departures; no airport has "
                          f"over {MAX_MONTHLY_DEPARTURES:,} a month (a yearly total?)")
    if (num["lat"].abs() > 90).any() or (num["lon"].abs() > 180).any():
        raise IngestError(f"{name}: coordinates outside lon/lat bounds")
    iata = raw["iata"].astype(str).str.strip()
    if not iata.str.fullmatch(r"[A-Z0-9]{3}").all():
        raise IngestError(f"{name}: IATA codes must be 3 letters/digits; found {iata[~iata.str.fullmatch(r'[A-Z0-9]{3}')].iloc[0]!r}")
    if iata.duplicated().any():
        raise IngestError(f"{name}: duplicate airport {iata[iata.duplicated()].iloc[0]!r}")
    out = pd.DataFrame({
        "iata": iata, "icao": raw["icao"].astype("string"), "name": raw["name"].astype("string"),
        "iso3": country_iso3(raw["country"].astype(str), iata, name), "lon": num["lon"], "lat": num["lat"],
        "departures_domestic": dom.astype("int64"), "departures_international": (dep - dom).astype("int64"),
        "departures": dep.astype("int64"), "seats": num["seats"].astype("int64"), "period": period,
    })
    out = out.sort_values(["departures", "iata"], ascending=[False, True]).reset_index(drop=True)
    out.attrs.update({"units": "departures_*: scheduled flights per month; seats per month; lon/lat degrees",
                      "period": str(period.date()), "source_file": name})
    return out


def read_airport_departures(path: Path) -> pd.DataFrame:
    """The joined departures file -> ``iata, icao, name, iso3, lon, lat, departures_domestic,
    departures_international, departures, seats, period`` (flights and seats per month)."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"airport departures file not found: {path}")
    try:
        raw = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"iata": str, "icao": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, EOFError, OSError) as e:
        raise IngestError(f"{path.name} is not a readable CSV: {e}") from e
    return normalise(raw, _period_of(path), path.name)


def read_openflights_airports(path: Path) -> pd.DataFrame:
    """OpenFlights ``airports.dat`` (no header) -> ``iata, name, city, country, icao, lat, lon`` (IATA rows)."""
    path = Path(path)
    try:
        t = pd.read_csv(path, header=None, keep_default_na=False, na_values=["", "\\N"], dtype=str)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, EOFError, OSError) as e:
        raise IngestError(f"{path.name} is not a readable OpenFlights airports file: {e}") from e
    if t.shape[1] < 8:
        raise IngestError(f"{path.name}: OpenFlights airports.dat has >= 8 columns, found {t.shape[1]}")
    t = t.iloc[:, :8]
    t.columns = ["id", "name", "city", "country", "iata", "icao", "lat", "lon"]
    t = t[t["iata"].notna() & (t["iata"].str.len() == 3)].drop_duplicates("iata")
    return t[["iata", "name", "city", "country", "icao", "lat", "lon"]]


def build_airport_departures(segments_path: Path, airports_path: Path) -> pd.DataFrame:
    """OPTD monthly segments + OpenFlights airports -> the normalised table (as :func:`read_airport_departures`)."""
    segments_path = Path(segments_path)
    try:
        s = pd.read_csv(segments_path, sep=";", keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, EOFError, OSError) as e:
        raise IngestError(f"{segments_path.name} is not a readable OPTD segments file: {e}") from e
    s = s.rename(columns={"#legori": "legori"})
    need = ("legori", "legdes", "deptdtYYYYMM", "capacity", "frequency")
    if any(c not in s.columns for c in need):
        raise IngestError(f"{segments_path.name} lacks OPTD segment columns {need}; found {list(s.columns)}")
    months = sorted(set(s["deptdtYYYYMM"].astype(str)))
    if len(months) != 1 or not re.fullmatch(r"\d{6}", months[0]):
        raise IngestError(f"{segments_path.name}: expected one month in deptdtYYYYMM, found {months[:5]}")
    for c in ("capacity", "frequency"):
        s[c] = pd.to_numeric(s[c], errors="coerce")
        if s[c].isna().any() or (s[c] < 0).any():
            raise IngestError(f"{segments_path.name}: non-numeric or negative {c}")
    ap = read_openflights_airports(airports_path)
    country = dict(zip(ap["iata"], ap["country"], strict=True))
    dom = s["legori"].map(country) == s["legdes"].map(country)
    g = s.groupby("legori").agg(departures=("frequency", "sum"), seats=("capacity", "sum"))
    d = s[dom].groupby("legori").agg(dom_departures=("frequency", "sum"), dom_seats=("capacity", "sum"))
    g = g.join(d).fillna({"dom_departures": 0, "dom_seats": 0})
    joined = ap.set_index("iata").join(g, how="inner").reset_index()
    period = pd.Timestamp(int(months[0][:4]), int(months[0][4:]), 1)
    return normalise(joined, period, f"{segments_path.name} x {Path(airports_path).name}")


class AirportTrafficAdapter(BaseAdapter):
    """Departures per airport: ``read([joined csv])`` or ``read([optd segments, openflights airports.dat])``."""

    info = INFO
    segments_url: str = SEGMENTS_URL
    airports_url: str = AIRPORTS_URL

    def download(self, start: date, end: date) -> list[Path]:
        """OPTD segment files of the months in [start, end] (only 2016-08, 2017-08 exist) + airports.dat."""
        from ingest.download import fetch

        months = [m for m in SEGMENT_MONTHS if start.replace(day=1) <= date(int(m[:4]), int(m[4:]), 1) <= end]
        if not months:
            raise IngestError(f"OpenTravelData publishes monthly segment files only for {', '.join(SEGMENT_MONTHS)}; "
                              f"none lies in {start}..{end}")
        segs = [fetch(self.segments_url.format(yyyymm=m), source=self.info.name,
                      settings=self.settings) for m in months]
        return [*segs, fetch(self.airports_url, source=self.info.name, settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        paths = [Path(p) for p in paths]
        if len(paths) == 1:
            return read_airport_departures(paths[0])
        airports = [p for p in paths if p.name.startswith("airports")]
        segs = [p for p in paths if "segs" in p.name]
        if len(airports) != 1 or not segs or len(airports) + len(segs) != len(paths):
            raise IngestError("airport traffic takes the joined CSV, or OPTD segment files plus OpenFlights airports.dat")
        return pd.concat([build_airport_departures(s, airports[0]) for s in segs], ignore_index=True)

    def validate(self, data: Data) -> None:
        if not isinstance(data, pd.DataFrame) or any(c not in data.columns for c in OUT_COLUMNS):
            raise IngestError(f"airport traffic must be a table with {OUT_COLUMNS}")
        if data.duplicated(["iata", "period"]).any():
            raise IngestError("airport traffic has duplicate (iata, period) rows")
