from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from ingest.base import IngestError
from ingest.cdiac import (
    DIR,
    KG_CO2_PER_TG_C,
    YEARS_SHIPPED,
    CDIACAdapter,
    check_against_summary,
    read_gridcar,
    read_gridcar_tgc,
    read_summary,
)


@pytest.mark.parametrize("year", YEARS_SHIPPED)
def test_grid_sum_matches_summary(data_dir: Path, year: int) -> None:
    summary = read_summary(data_dir / DIR / "SUMMARY.MASS.DAT")
    da = read_gridcar(data_dir / DIR / f"gridcar.{year}")
    ref = summary.set_index("year").loc[year]
    # SUMMARY.MASS.DAT's gridsum (Tg C, 2 decimals) == our sum (kg CO2) converted back
    assert float(da.sum()) / KG_CO2_PER_TG_C == pytest.approx(ref["gridsum"], abs=0.006)
    assert float(da.max()) / KG_CO2_PER_TG_C == pytest.approx(ref["maxgrid"], abs=0.051)
    got = check_against_summary(da, summary)
    assert got["mingrid"] == 0.0
    # global fossil CO2 ~ 30-36 Gt in 2009-2013
    assert 29e12 < float(da.sum()) < 36e12 and da.attrs["units"] == "kg yr-1"


def test_orientation_north_first_west_first(data_dir: Path) -> None:
    da = read_gridcar(data_dir / DIR / "gridcar.2013")
    top = da.where(da == da.max(), drop=True)
    # the largest cell is Tokyo (35-36 N, 139-140 E); an east-west or north-south flip would put it elsewhere
    assert top.lat.values.tolist() == [35.5] and top.lon.values.tolist() == [139.5]
    assert float(da.sel(lat=slice(-60, -90)).sum()) == 0.0  # no fossil CO2 in Antarctica


def test_adapter_writes_zarr(data_dir: Path, tmp_path: Path) -> None:
    srcs = [data_dir / DIR / "gridcar.2013", data_dir / DIR / "gridcar.2012", data_dir / DIR / "SUMMARY.MASS.DAT"]
    a = CDIACAdapter()
    ds = a.read(srcs)
    assert ds["year"].values.tolist() == [2012, 2013] and ds.attrs["summary_checked"] == "true"
    out = a.write(ds, tmp_path / "cdiac.zarr", inputs=srcs)
    back = xr.open_zarr(out, consolidated=False)
    assert float(back["emissions"].sel(year=2013).sum()) == pytest.approx(float(ds["emissions"].sel(year=2013).sum()))
    assert back.attrs["provenance"].count("sha256") == 3


def test_bad_input(data_dir: Path, tmp_path: Path) -> None:
    raw = (data_dir / DIR / "gridcar.2013").read_bytes()
    lines = raw.split(b"\n")
    short = tmp_path / "gridcar.2001"
    short.write_bytes(b"\n".join(lines[:1000]) + b"\n")
    with pytest.raises(IngestError, match="holds 180 x 360 = 64800 values, one per line; found 1000 lines"):
        read_gridcar_tgc(short)
    neg = tmp_path / "gridcar.2002"
    neg.write_bytes(raw.replace(b" 0.000000E+00", b"-1.000000E+00", 1))
    with pytest.raises(IngestError, match="should be zero or positive"):
        read_gridcar_tgc(neg)
    fmt = tmp_path / "gridcar.2003"
    fmt.write_bytes(b"\n".join(b"%g" % float(x) for x in lines[:-1]) + b"\n")
    with pytest.raises(IngestError, match="not in Fortran ES13.6E2 format"):
        read_gridcar_tgc(fmt)
    # a grid that disagrees with the summary (e.g. read with the wrong units or year) is refused
    summary = read_summary(data_dir / DIR / "SUMMARY.MASS.DAT")
    da = read_gridcar(data_dir / DIR / "gridcar.2013")
    wrong = da.copy(data=da.values * 1.01)
    with pytest.raises(IngestError, match="differ from SUMMARY.MASS.DAT"):
        check_against_summary(wrong, summary)
    with pytest.raises(IngestError, match="duplicate year"):
        CDIACAdapter().read([data_dir / DIR / "gridcar.2013", data_dir / DIR / "gridcar.2013"])
    with pytest.raises(IngestError, match="not a CDIAC grid file name"):
        read_gridcar(tmp_path / "emissions.txt")
    assert np.isfinite(da.values).all()
