"""A numpy array that grows by doubling its capacity.

The per-vocabulary-entry tables (the Lexicon's, the codebook's per-word groups and
required-word bits) gain a few rows with every document that brings new words. Rebuilding
or concatenating them each time made coding time grow with the square of the vocabulary
(3,200 documents of 50 new words each: 62 s instead of about 6); doubling the capacity
copies each entry a bounded number of times in all.
"""
from __future__ import annotations

from typing import Any

import numpy as np


class GrowingArray:
    """An array whose ``axis`` (0 or -1) grows by appending; ``view`` holds the rows
    appended so far. The capacity always exceeds the size, and unused positions hold
    ``fill``, so index ``size`` is a padding position that reads as ``fill``."""

    def __init__(self, dtype: Any, shape: tuple[int, ...] = (), *, axis: int = 0, fill: Any = 0,
                 capacity: int = 1024):
        self.dtype, self.fill, self.size = np.dtype(dtype), fill, 0
        self._axis = 0 if axis == 0 else len(shape)
        dims = list(shape)
        dims.insert(self._axis, capacity)
        self._data = np.full(dims, fill, dtype=self.dtype)

    def __len__(self) -> int:
        return self.size

    def _span(self, array: np.ndarray, start: int, stop: int) -> np.ndarray:
        return array[(slice(None),) * self._axis + (slice(start, stop),)]

    def extend(self, values: Any) -> None:
        """Append ``values``: an array (or nested list) with this array's other dimensions."""
        values = np.asarray(values, dtype=self.dtype)
        stop = self.size + values.shape[self._axis]
        capacity = self._data.shape[self._axis]
        if stop >= capacity:
            dims = list(self._data.shape)
            dims[self._axis] = max(2 * capacity, stop + 1)
            grown = np.full(dims, self.fill, dtype=self.dtype)
            self._span(grown, 0, self.size)[...] = self._span(self._data, 0, self.size)
            self._data = grown
        self._span(self._data, self.size, stop)[...] = values
        self.size = stop

    @property
    def view(self) -> np.ndarray:
        """The appended rows (a view: valid until the next ``extend``)."""
        return self._span(self._data, 0, self.size)

    @property
    def padded(self) -> np.ndarray:
        """The whole buffer: the appended rows, then at least one position of ``fill``."""
        return self._data
