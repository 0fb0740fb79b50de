"""CDIAC NDP-058 download (plain files, sha256 of the shipped ones) against a real local HTTP server."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from carbonmap.contract import sha256_file
from ingest.base import IngestError
from ingest.cdiac import DIR, SHA256, CDIACAdapter


@pytest.fixture()
def mirror(publisher, set_settings, data_dir: Path):
    base, routes, hits = publisher
    files = {p.name: p.read_bytes() for p in (data_dir / DIR).iterdir()}
    served = dict(files)
    for name in files:
        routes[("GET", f"/co2/gridcar/{name}")] = lambda q, h, b, n=name: (200, "text/plain", served[n])
    set_settings(cdiac_url=f"{base}/co2/gridcar")
    return served, hits


def test_sha256_table_matches_shipped_files(data_dir: Path) -> None:
    for name, digest in SHA256.items():
        assert sha256_file(data_dir / DIR / name) == digest, name


def test_download_read_and_cache(mirror, tmp_cache: Path) -> None:
    _, hits = mirror
    paths = CDIACAdapter().download(date(2012, 6, 1), date(2013, 2, 1))
    assert [p.name for p in paths] == ["gridcar.2012", "gridcar.2013", "SUMMARY.MASS.DAT"]
    assert all(p.is_relative_to(tmp_cache / "downloads" / "cdiac") for p in paths)
    ds = CDIACAdapter().read(paths)  # checked against SUMMARY.MASS.DAT by the reader
    assert list(ds["year"].values) == [2012, 2013] and ds.attrs["summary_checked"] == "true"
    assert len(hits) == 3
    assert CDIACAdapter().download(date(2012, 6, 1), date(2013, 2, 1)) == paths
    assert len(hits) == 3  # from the cache


def test_checksum_mismatch_leaves_nothing(mirror, tmp_cache: Path) -> None:
    served, _ = mirror
    served["gridcar.2011"] = served["gridcar.2011"].replace(b"E+00", b"E+01", 1)
    with pytest.raises(IngestError, match="gridcar.2011 has sha256 .* expected 7241768"):
        CDIACAdapter().download(date(2011, 1, 1), date(2011, 12, 31))
    assert not [p for p in (tmp_cache / "downloads" / "cdiac").glob("*") if p.is_file()]


def test_offline_and_out_of_range(set_settings, dead_url: str, tmp_cache: Path) -> None:
    set_settings(cdiac_url=f"{dead_url}/co2/gridcar")
    with pytest.raises(IngestError, match="could not download .*gridcar.2010.*are you offline"):
        CDIACAdapter().download(date(2010, 1, 1), date(2010, 1, 1))
    with pytest.raises(IngestError, match="covers 1751-2013"):
        CDIACAdapter().download(date(2020, 1, 1), date(2021, 1, 1))
