"""What decompressing a big chunk costs: LZ4 itself, or faulting in the pages it writes?

Decompresses the biggest LZ4 messages of a recording (default: the `points` benchmark file
of `scripts/make_bench_files.py`) into four kinds of output buffer, one pass each, and
prints the mean time per message:

- ``warm``: one reused buffer (pages already mapped): LZ4 alone;
- ``populated``: a fresh anonymous map faulted in beforehand (``MADV_POPULATE_WRITE``);
- ``fresh``: a fresh anonymous map, faulted in by the decompression itself;
- ``pyarrow``: pyarrow's ``Codec.decompress`` (allocates fresh memory too).

Run it right after touching some memory (docs/platform-facts.md, "Fresh memory"):

    .venv/bin/python -c "import numpy as np; np.ones(3 << 30, np.uint8)"
    .venv/bin/python scripts/bench_big_decompress.py [FILE.rrd]
"""

from __future__ import annotations

import argparse
import mmap
import sys
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from viewer.log import arrow  # noqa: E402
from viewer.log.messages import ArrowMsg, Compression  # noqa: E402
from viewer.log.protobuf import as_byte_view  # noqa: E402
from viewer.log.reader import read_rrd  # noqa: E402
from viewer.runtime import use_system_arrow_allocator  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file", nargs="?", default="/tmp/rrd-bench/bench_points_s1.rrd")
    p.add_argument("--messages", type=int, default=60)
    p.add_argument("--passes", type=int, default=2)
    args = p.parse_args()
    use_system_arrow_allocator()  # as the viewer runs
    msgs, _ = read_rrd(args.file)
    big = sorted((m for m in msgs if isinstance(m, ArrowMsg)
                  and m.compression == Compression.LZ4),
                 key=lambda m: -m.uncompressed_size)[:args.messages]
    if not big:
        print("no LZ4 messages in the file", file=sys.stderr)
        return 1
    if arrow.prepare_output(big[0]) is None:
        print("no liblz4 / MADV_POPULATE_WRITE here", file=sys.stderr)
        return 1
    for m in big:
        bytes(as_byte_view(m.payload))  # the file's pages in, for every variant alike
    mean_mb = sum(m.uncompressed_size for m in big) / len(big) / 1e6
    print(f"{len(big)} messages, {mean_mb:.2f} MB each decompressed")
    warm = pa.allocate_buffer(max(m.uncompressed_size for m in big))

    def anonymous(size: int) -> pa.Buffer:
        return pa.py_buffer(mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS))

    for _ in range(args.passes):
        row = {}
        for label in ("warm", "populated", "fresh", "pyarrow"):
            kept, total = [], 0.0
            for m in big:
                size = m.uncompressed_size
                out = {"warm": lambda: warm.slice(0, size),  # noqa: B023 - called at once
                       "populated": lambda: arrow.prepare_output(m),  # noqa: B023
                       "fresh": lambda: anonymous(size),  # noqa: B023
                       "pyarrow": lambda: None}[label]()
                t0 = time.perf_counter()
                out, _ = arrow.decompress_payload(m, out)  # liblz4 into ``out`` if given
                total += time.perf_counter() - t0
                kept.append(out)  # every output stays alive: fresh pages each time
            row[label] = 1e3 * total / len(big)
        print("  ".join(f"{k} {v:.3f}" for k, v in row.items()), "ms per message")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
