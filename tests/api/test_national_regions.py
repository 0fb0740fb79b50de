"""api.national_regions: ISO3 codes, bunkers and the world resolved against a dataset's countries."""

from __future__ import annotations

import pytest

from api.national_regions import RegionNotFound, close_codes, resolve

AVAILABLE = ("CHN", "DEU", "DNK", "DZA", "FRA", "USA", "XIA", "XIS")


def test_country_resolves_case_insensitively_to_its_inventory_row():
    region = resolve("deu", AVAILABLE, "demo")
    assert region.id == "DEU" and region.type == "country" and region.countries == ("DEU",)
    assert "national inventory territory" in region.definition


def test_world_is_every_row_including_bunkers():
    region = resolve("WLD", AVAILABLE, "demo")
    assert region.type == "world" and set(region.countries) == set(AVAILABLE)
    assert "XIA" in region.definition and "XIS" in region.definition


@pytest.mark.parametrize(("code", "sector"), [("XIA", "international_aviation"), ("XIS", "international_shipping")])
def test_bunkers_are_international_regions(code, sector):
    region = resolve(code, AVAILABLE, "demo")
    assert region.type == "international" and region.countries == (code,) and sector in region.definition


def test_unknown_code_names_close_codes_and_what_to_do():
    with pytest.raises(RegionNotFound) as err:
        resolve("DEX", AVAILABLE, "demo")
    text = str(err.value)
    assert "'DEX'" in text and "DEU" in text and "GET /datasets/demo" in text and "WLD" in text
    assert isinstance(err.value, LookupError)


def test_close_codes_prefers_similar_codes():
    near = close_codes("DNL", AVAILABLE)
    assert near[0] in ("DNK", "DEU") and len(near) <= 5
    assert "USA" not in close_codes("DNL", AVAILABLE, n=3)
