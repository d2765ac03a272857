"""Association measures for two codes that co-occur in ``n12`` of ``n`` units.

``n1`` and ``n2`` are the numbers of units holding each code. Every function takes
scalars or numpy arrays (one value per pair) and returns the same shape, so a whole
co-occurrence table is measured in one vectorised call.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.stats import hypergeom

_PARALLEL_FROM = 2000  # values; below this, threads cost more than they save
_MAX_THREADS = 8
UNEQUAL_RATIO = 5.0  # ATLAS.ti warns when one code is used more than five times as often as the other


def c_coefficient(n12, n1, n2):
    """ATLAS.ti's c-coefficient (Jaccard): ``n12 / (n1 + n2 - n12)``, 0 when neither code occurs."""
    n12, n1, n2 = (np.asarray(x, dtype=float) for x in (n12, n1, n2))
    union = n1 + n2 - n12
    return _out(np.divide(n12, union, out=np.zeros_like(union * n12), where=union > 0))


def lift(n12, n1, n2, n):
    """Observed over expected co-occurrence: ``n12 * n / (n1 * n2)``; 1 means as often as chance."""
    n12, n1, n2, n = (np.asarray(x, dtype=float) for x in (n12, n1, n2, n))
    expected = n1 * n2
    return _out(np.divide(n12 * n, expected, out=np.zeros_like(expected * n12), where=expected > 0))


def p_value(n12, n1, n2, n):
    """One-sided hypergeometric p-value ``P(X >= n12)``, ``X ~ Hypergeom(n, n1, n2)``.

    The chance that two codes placed at random in ``n1`` and ``n2`` of ``n`` units meet
    in at least ``n12`` of them; small values mean the pair co-occurs more than chance.
    """
    n12, n1, n2, n = np.broadcast_arrays(*(np.asarray(x, dtype=np.int64) for x in (n12, n1, n2, n)))
    if n12.size < _PARALLEL_FROM:
        return _out(np.clip(hypergeom.sf(n12 - 1, n, n1, n2), 0.0, 1.0))
    # scipy's exact sf (Boost) costs ~0.1 ms per value for n in the thousands and releases
    # the GIL: share long arrays among threads (each value is computed the same way).
    chunks = np.array_split(np.arange(n12.size), min(os.cpu_count() or 1, _MAX_THREADS))
    flat = [a.ravel() for a in (n12, n1, n2, n)]
    with ThreadPoolExecutor(len(chunks)) as pool:
        parts = pool.map(lambda ix: hypergeom.sf(flat[0][ix] - 1, flat[3][ix], flat[1][ix], flat[2][ix]), chunks)
        values = np.concatenate(list(parts))
    return np.clip(values, 0.0, 1.0).reshape(n12.shape)


def unequal(n1, n2, ratio: float = UNEQUAL_RATIO):
    """True when one code occurs more than ``ratio`` times as often as the other.

    The c-coefficient then stays small however tightly the rarer code sticks to the
    other, so it misleads (ATLAS.ti shows a warning for such pairs).
    """
    n1, n2 = np.asarray(n1), np.asarray(n2)
    result = np.maximum(n1, n2) > ratio * np.minimum(n1, n2)
    return bool(result) if result.ndim == 0 else result


def _out(values: np.ndarray):
    """A plain float for scalar input, the array otherwise."""
    return float(values) if values.ndim == 0 else values
