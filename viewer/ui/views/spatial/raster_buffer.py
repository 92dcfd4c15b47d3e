"""The key buffer every 3D primitive draws into, and the block-wise projection they share.

A pixel's key is 64 bits: the high word grows with depth (the bit pattern of ``1/z``,
inverted: float bits of positive numbers order like the numbers), the low word names what
is drawn there. ``np.minimum.at(buffer, pixels, keys)`` keeps the nearest fragment of every
pixel without sorting. Wide points and lines are drawn as single pixels into a buffer of
their disc radius, then eroded with the disc into the base image.
"""

from __future__ import annotations

import numpy as np

#: The key of a pixel nothing covers.
EMPTY = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
#: The low word of a key.
LOW_WORD = np.uint64(0xFFFF_FFFF)


class KeyBuffer:
    """The key buffer of one frame: a padded image (discs near the border are drawn whole)
    plus one spare slot at the end that swallows every rejected fragment."""

    def __init__(self, width: int, height: int, pad: int) -> None:
        self.w, self.h, self.pad = width, height, pad
        self.wb, self.hb = width + 2 * pad, height + 2 * pad
        self.sentinel = self.wb * self.hb
        self.base = np.full(self.sentinel + 1, EMPTY, np.uint64)
        # Fragments of discs of radius r > 0, drawn as their centres then eroded.
        self.groups: dict[int, np.ndarray] = {}

    def buffer(self, r: int) -> np.ndarray:
        if r <= 0:
            return self.base
        buf = self.groups.get(r)
        if buf is None:
            buf = self.groups[r] = np.full(self.sentinel + 1, EMPTY, np.uint64)
        return buf

    def image(self, buf: np.ndarray) -> np.ndarray:
        return buf[:-1].reshape(self.hb, self.wb)

    def finish(self) -> np.ndarray:
        """Erode every disc group into the base image; returns the visible (h, w) keys."""
        base = self.image(self.base)
        for r, buf in sorted(self.groups.items()):
            _erode_disc_into(self.image(buf), r, base)
        o = self.pad
        return base[o:o + self.h, o:o + self.w]


def _disc_half_widths(r: int) -> np.ndarray:
    """Half width of each row dy = -r..r of the pixel disc of radius r."""
    dy = np.arange(-r, r + 1)
    return np.floor(np.sqrt(np.maximum((r + 0.5) ** 2 - dy * dy, 0.0))).astype(int)


def _erode_disc_into(img: np.ndarray, r: int, out: np.ndarray) -> None:
    """out = min(out, min of img over a disc of radius r around each pixel), only over the
    rows and columns img uses (plus r)."""
    rows = np.flatnonzero((img != EMPTY).any(axis=1))
    if not len(rows):
        return
    cols = np.flatnonzero((img[rows[0]:rows[-1] + 1] != EMPTY).any(axis=0))
    y0, y1 = max(rows[0] - r, 0), min(rows[-1] + r + 1, img.shape[0])
    x0, x1 = max(cols[0] - r, 0), min(cols[-1] + r + 1, img.shape[1])
    src = img[y0:y1, x0:x1]
    dst = out[y0:y1, x0:x1]
    hh = src.shape[0]
    half = _disc_half_widths(r)
    # Running horizontal minimum of growing width 2k+1; rows whose half width is k take it.
    cur = src
    for k in range(0, int(half.max()) + 1):
        if k > 0:
            nxt = np.empty_like(cur)
            nxt[:, 0] = EMPTY
            nxt[:, 1:] = cur[:, :-1]
            np.minimum(nxt[:, :-1], cur[:, 1:], out=nxt[:, :-1])
            if k == 1:
                np.minimum(nxt, cur, out=nxt)
            cur = nxt
        for i in np.flatnonzero(half == k):
            dy = int(i) - r  # dst row y takes src row y + dy
            if dy >= 0:
                np.minimum(dst[:hh - dy], cur[dy:], out=dst[:hh - dy])
            else:
                np.minimum(dst[-dy:], cur[:hh + dy], out=dst[-dy:])


#: Columns per matrix product: small enough that BLAS runs it on this thread (its worker
#: threads, spinning on a busy 2-core machine, made one 1 M-point product 2-4x slower).
_MATMUL_COLUMNS = 32768


def transform(m: np.ndarray, xyz1: np.ndarray) -> np.ndarray:
    """``m @ xyz1`` for (4, n) homogeneous columns, one block of columns at a time."""
    n = xyz1.shape[1]
    if n <= _MATMUL_COLUMNS:
        return m @ xyz1
    out = np.empty((m.shape[0], n), np.float32)
    for s in range(0, n, _MATMUL_COLUMNS):
        np.matmul(m, xyz1[:, s:s + _MATMUL_COLUMNS], out=out[:, s:s + _MATMUL_COLUMNS])
    return out


def depth_keys(low: np.ndarray, iz: np.ndarray) -> np.ndarray:
    """(k,) uint64 keys: high word from 1/z (nearer: smaller), low word ``low``."""
    keys = np.empty((len(iz), 2), np.uint32)
    keys[:, 0] = low
    np.invert(np.ascontiguousarray(iz, np.float32).view(np.uint32), out=keys[:, 1])
    return keys.view(np.uint64).reshape(-1)
