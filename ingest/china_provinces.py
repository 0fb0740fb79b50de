"""China's annual industrial output by province (NBS, via Wind) -> canonical yearly table (issue #16).

File: ``activity/china-monthly/provincial_outputs_and_thermal_capacity.csv`` (a Wind export; columns such as
``China: Hebei: Output: Crude Steel: YTD`` in tons, ``... Output: Cement: YTD``). NBS publishes year-to-date
values; the December value is the year's output. :func:`read_china_province_output` returns, for every province
(``region`` = ISO 3166-2:CN code, the codes Natural Earth's admin-1 file uses) and year with a December value,
``crude_steel``, ``cement`` and ``pig_iron`` in Mt. A year without its December value is left out (never summed
from months). Publication: NBS annual provincial output comes out with the December national release (~20 days);
registered as ``nbs_china_province_output`` with 20 days.

Licence: NBS statistics are public; this is a Wind export inside a GPL-3.0 repository (energyandcleanair/
china_co2), as the other China files: say so where used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from ingest.activity import finish, register_lag
from ingest.base import BaseAdapter, IngestError, SourceInfo
from ingest.china_monthly import read_wind_export
from ingest.download import fetch

SOURCE = "nbs_china_province_output"
LAG_DAYS = register_lag(SOURCE, 20)
FILE = "activity/china-monthly/provincial_outputs_and_thermal_capacity.csv"
URL = ("https://raw.githubusercontent.com/energyandcleanair/china_co2/4043449a/inst/csv/"
       "provincial_outputs_and_thermal_capacity.csv")
PROVINCES: dict[str, str] = {
    "Beijing": "CN-BJ", "Tianjin": "CN-TJ", "Hebei": "CN-HE", "Shanxi": "CN-SX", "Inner Mongolia": "CN-NM",
    "Liaoning": "CN-LN", "Jilin": "CN-JL", "Heilongjiang": "CN-HL", "Shanghai": "CN-SH", "Jiangsu": "CN-JS",
    "Zhejiang": "CN-ZJ", "Anhui": "CN-AH", "Fujian": "CN-FJ", "Jiangxi": "CN-JX", "Shandong": "CN-SD",
    "Henan": "CN-HA", "Hubei": "CN-HB", "Hunan": "CN-HN", "Guangdong": "CN-GD", "Guangxi": "CN-GX",
    "Hainan": "CN-HI", "Chongqing": "CN-CQ", "Sichuan": "CN-SC", "Guizhou": "CN-GZ", "Yunnan": "CN-YN",
    "Tibet": "CN-XZ", "Shaanxi": "CN-SN", "Gansu": "CN-GS", "Qinghai": "CN-QH", "Ningxia": "CN-NX",
    "Xinjiang": "CN-XJ",
}
"""Province names as Wind writes them in English -> ISO 3166-2:CN codes."""
PRODUCTS = {"Crude Steel": "crude_steel", "Cement": "cement", "Pig Iron": "pig_iron"}
_COLUMN = re.compile(r"^China: (?P<province>[^:]+): Output: (?P<product>[^:]+): YTD$")
MAX_MT = {"crude_steel": 400.0, "cement": 500.0, "pig_iron": 350.0}
"""No province makes more than this in a year, Mt (Hebei's crude steel ~ 200 Mt): more means wrong units."""

INFO = SourceInfo(
    name=SOURCE, title="China NBS annual industrial output by province (crude steel, cement, pig iron)",
    kind="activity",
    licence="NBS statistics (public); Wind export inside a GPL-3.0 repository (energyandcleanair/china_co2)",
    url="https://data.stats.gov.cn/english/easyquery.htm?cn=E0103", shipped=(FILE,),
    note="year-to-date December values = annual output; the province level of China's industry")


def read_china_province_output(path: Path) -> pd.DataFrame:
    """The Wind export -> canonical yearly table (iso3 CHN, region CN-xx, Mt per year)."""
    table = read_wind_export(Path(path))
    rows = []
    for col in table.values.columns:
        m = _COLUMN.match(str(col))
        if m is None or m["product"] not in PRODUCTS or m["province"] not in PROVINCES:
            continue
        unit = table.unit.get(col, "")
        if unit not in ("ton", "10,000 tons", "10000 tons"):
            raise IngestError(f"{table.name}: column {col!r} is in {unit!r}, expected ton or 10,000 tons")
        scale = 1e-6 if unit == "ton" else 1e-2
        s = table.values[col]
        dec = s[[p.month == 12 for p in s.index]].dropna()
        for period, value in dec.items():
            rows.append({"iso3": "CHN", "region": PROVINCES[m["province"]],
                         "period": pd.Timestamp(f"{period.year}-01-01"), "frequency": "yearly",
                         "variable": PRODUCTS[m["product"]], "value": float(value) * scale, "unit": "Mt"})
    if not rows:
        raise IngestError(f"{table.name}: no provincial crude steel, cement or pig iron columns found")
    return finish(pd.DataFrame(rows), table.name, source=SOURCE, max_value=MAX_MT)


class ChinaProvinceOutputAdapter(BaseAdapter[pd.DataFrame]):
    """NBS annual provincial output (canonical Parquet)."""

    info = INFO

    def download(self, start: date, end: date) -> list[Path]:
        return [fetch(URL, source=self.info.name, settings=self.settings)]

    def read(self, paths: Sequence[Path]) -> pd.DataFrame:
        if len(paths) != 1:
            raise IngestError("give exactly one provincial output file")
        return read_china_province_output(Path(paths[0]))
