"""The fast JSON writer of region-query answers equals serialising the plain dicts, byte for byte."""

from __future__ import annotations

import datetime as dt

import numpy as np
import orjson
import pytest

from api.query_encoding import period_separators
from api.query_models import QueryEmissions, QueryRegion, QueryResult
from carbonmap import contract as cc


def _result(freq: str, sectors: tuple[str, ...], seed: int) -> QueryResult:
    rng = np.random.default_rng(seed)
    if freq == "day":
        days = [dt.date(2024, 2, 27) + dt.timedelta(days=k) for k in range(5)]  # across 29 February
        labels = tuple(d.isoformat() for d in days)
        bounds = [(d, d, 1) for d in days]
    elif freq == "month":
        labels = ("2024-01", "2024-02")
        bounds = [(dt.date(2024, 1, 3), dt.date(2024, 1, 31), 29), (dt.date(2024, 2, 1), dt.date(2024, 2, 29), 29)]
    else:
        labels = ("2024",)
        bounds = [(dt.date(2024, 1, 1), dt.date(2024, 12, 31), 366)]
    n_p, n_s = len(labels), len(sectors)
    est = rng.lognormal(8, 6, (n_p, n_s))  # heavy-tailed: exponents, tiny and huge numbers
    est[0, 0] = 0.0
    arrays = {"sector_estimate": est, "sector_lower": est * 0.8, "sector_upper": est * 1.25,
              "total_estimate": est.sum(axis=1), "total_lower": est.sum(axis=1) * 0.9,
              "total_upper": est.sum(axis=1) * 1.1}
    region = QueryRegion(id="geometry:abc", type="geometry", definition="test", cells=3, area_km2=12.5)
    return QueryResult(dataset="d", region=region, start=bounds[0][0], end=bounds[-1][1], freq=freq,
                       sectors=sectors, source="test", labels=labels, bounds=bounds, arrays=arrays, release="r0001")


@pytest.mark.parametrize("freq", ["day", "month", "year"])
@pytest.mark.parametrize("sectors", [cc.SECTORS, ("industry",), ("power", "international_shipping")])
def test_fast_json_equals_the_dict_serialisation(freq: str, sectors: tuple[str, ...]) -> None:
    for seed in range(3):
        result = _result(freq, sectors, seed)
        body = result.to_json()
        assert body == orjson.dumps(result.to_dict())
        assert QueryEmissions.model_validate_json(body).periods[-1].total.emissions == pytest.approx(
            float(result.arrays["total_estimate"][-1]), rel=1e-15)


def test_separators_hold_one_hole_per_number() -> None:
    labels, bounds = ("2024-01", "2024-02"), ((dt.date(2024, 1, 1), dt.date(2024, 1, 31), 31),
                                              (dt.date(2024, 2, 1), dt.date(2024, 2, 29), 29))
    seps = period_separators(labels, bounds, ("power", "industry"))
    assert len(seps) == 2 * 3 * 3 + 1
    assert seps[0].startswith(b'[{"period":"2024-01"') and seps[-1] == b"}}]"
    with pytest.raises(ValueError, match="at least one sector"):
        period_separators(labels, bounds, ())
