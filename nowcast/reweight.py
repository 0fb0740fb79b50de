"""Optional satellite NO2 reweighting of downscaling weights, keeping every country's total.

w'(cell, c) = w(cell, c) x r(cell)^alpha / sum over cells of w x r^alpha, where r is a per-cell NO2
column ratio (e.g. the day's or month's tropospheric NO2 column over a climatology, or over its
country mean; dimensionless, >= 0) on the same grid as the weights.  Because each column is
renormalised, the grid still sums to the national total exactly; NO2 only moves emissions between
a country's own cells.  Cells without a ratio (NaN) count as r = 1 (no information).  A country
whose reweighted column would vanish (r = 0 on all its cells) keeps its original weights.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from carbonmap.errors import InvalidInput

NO2_METHOD = ("optional satellite NO2 reweighting: w x r^alpha per cell, columns renormalised so national "
              "totals are kept (nowcast/reweight.py)")


class ReweightError(InvalidInput):
    """A NO2 ratio field or exponent that cannot be used."""


def no2_reweight(weights: sp.spmatrix, ratio: np.ndarray, alpha: float) -> sp.csc_matrix:
    """Reweight column-normalised weights by r^alpha and renormalise each column.

    weights: (cell, region) column-normalised (columns sum to 1 or are empty); ratio: (cell,)
    NO2 column ratio, dimensionless, >= 0, NaN = unknown; alpha: exponent >= 0 (0 = no change).
    Returns (cell, region) CSC float64 whose non-empty columns sum to 1.
    """
    w = sp.csc_matrix(weights, dtype=np.float64)
    r = np.asarray(ratio, dtype=np.float64).ravel()
    if r.shape != (w.shape[0],):
        raise ReweightError(f"NO2 ratio has {r.size} cells but the weights have {w.shape[0]}; regrid it first")
    if not np.isfinite(alpha) or alpha < 0:
        raise ReweightError(f"alpha must be finite and >= 0, got {alpha!r}")
    if np.any(r[np.isfinite(r)] < 0) or np.any(np.isinf(r)):
        raise ReweightError("NO2 ratios must be >= 0 and finite (NaN marks unknown cells)")
    factor = np.where(np.isfinite(r), r, 1.0) ** alpha
    scaled = sp.csc_matrix(sp.diags(factor) @ w)
    old = np.asarray(w.sum(axis=0)).ravel()
    new = np.asarray(scaled.sum(axis=0)).ravel()
    ok = new > 0
    inv = np.zeros(w.shape[1])
    inv[ok] = 1.0 / new[ok]
    keep = ~ok & (old > 0)
    out = scaled @ sp.diags(inv) + w @ sp.diags(keep.astype(np.float64) / np.where(keep, old, 1.0))
    out = sp.csc_matrix(out)
    out.eliminate_zeros()
    col = np.asarray(out.sum(axis=0)).ravel()
    inv = np.zeros(w.shape[1])
    inv[col > 0] = 1.0 / col[col > 0]
    return sp.csc_matrix(out @ sp.diags(inv))
