"""libc's ``madvise`` through ctypes, loaded once for the whole process.

Two tricks need it: the reader hands mapped file pages back (``MADV_DONTNEED``) and the
decoder pre-faults its output buffers (``MADV_POPULATE_WRITE``). Calls through ctypes release
the GIL for the syscall.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

_madvise: Callable[[int, int, int], int] | None | bool = False  # False: not loaded yet


def madvise() -> Callable[[int, int, int], int] | None:
    """``madvise(address, length, advice) -> 0 or -1`` (errno via `ctypes.get_errno`), or
    None off Linux or without a usable libc."""
    global _madvise
    if _madvise is False:
        _madvise = None
        if sys.platform.startswith("linux"):
            try:
                fn = ctypes.CDLL(None, use_errno=True).madvise
            except (OSError, AttributeError):
                return None
            fn.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
            fn.restype = ctypes.c_int
            _madvise = fn
    return _madvise  # type: ignore[return-value]
