"""xxHash32 in pure Python, for the .rrd stream footer's checksum of the End body.

The footer checksum uses seed 7850921 (`FOOTER_SEED`). Bodies are small (the footer index),
so a plain loop over 16-byte stripes is fast enough and saves a dependency.
"""

from __future__ import annotations

import struct

__all__ = ["FOOTER_SEED", "xxh32"]

FOOTER_SEED = 7850921

_P1 = 2654435761
_P2 = 2246822519
_P3 = 3266489917
_P4 = 668265263
_P5 = 374761393
_M = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M


def xxh32(data: bytes | bytearray | memoryview, seed: int = 0) -> int:
    """The 32-bit xxHash of ``data`` (the reference algorithm, little-endian input)."""
    data = bytes(data)
    n = len(data)
    pos = 0
    if n >= 16:
        v1 = (seed + _P1 + _P2) & _M
        v2 = (seed + _P2) & _M
        v3 = seed & _M
        v4 = (seed - _P1) & _M
        stripes = n // 16
        words = struct.unpack_from(f"<{stripes * 4}I", data, 0)
        for i in range(0, stripes * 4, 4):
            v1 = (v1 + words[i] * _P2) & _M
            v1 = (((v1 << 13) | (v1 >> 19)) & _M) * _P1 & _M
            v2 = (v2 + words[i + 1] * _P2) & _M
            v2 = (((v2 << 13) | (v2 >> 19)) & _M) * _P1 & _M
            v3 = (v3 + words[i + 2] * _P2) & _M
            v3 = (((v3 << 13) | (v3 >> 19)) & _M) * _P1 & _M
            v4 = (v4 + words[i + 3] * _P2) & _M
            v4 = (((v4 << 13) | (v4 >> 19)) & _M) * _P1 & _M
        pos = stripes * 16
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _M
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while pos + 4 <= n:
        (word,) = struct.unpack_from("<I", data, pos)
        h = (h + word * _P3) & _M
        h = _rotl(h, 17) * _P4 & _M
        pos += 4
    while pos < n:
        h = (h + data[pos] * _P5) & _M
        h = _rotl(h, 11) * _P1 & _M
        pos += 1
    h ^= h >> 15
    h = h * _P2 & _M
    h ^= h >> 13
    h = h * _P3 & _M
    h ^= h >> 16
    return h
