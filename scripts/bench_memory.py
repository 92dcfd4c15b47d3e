#!/usr/bin/env python3
"""Load a generated file several times the memory limit through the real hub and report the
store bytes and the process RSS (anonymous and file-backed) over time.

    .venv/bin/python scripts/bench_memory.py --file-mb 90 --limit 30MB [--web] [--raw]
    .venv/bin/python scripts/bench_memory.py ... --no-release   # without the RSS fixes

``--no-release`` disables the two RSS measures (reader pages released behind the cursor,
Arrow pool trimmed after evictions) to show what they buy. Linux only (/proc/self/status).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ingest"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--file-mb", type=float, default=90)
    p.add_argument("--limit", default="30MB")
    p.add_argument("--web", action="store_true", help="web mode instead of threaded")
    p.add_argument("--raw", action="store_true", help="uncompressed payloads (zero-copy)")
    p.add_argument("--no-release", action="store_true", help="disable the RSS measures")
    args = p.parse_args(argv)

    from memory_files import write_big_file
    from PySide6.QtCore import QCoreApplication

    import viewer.ingest.memory_governor as governor_mod
    import viewer.log.reader as reader_mod
    from viewer.ingest import IngestHub, IngestSettings
    from viewer.runtime import apply_process_settings
    from viewer.store.memory import parse_memory_limit

    limit = parse_memory_limit(args.limit)
    path = Path(tempfile.mkdtemp()) / "big.rrd"
    write_big_file(path, int(args.file_mb * 1e6), compress=not args.raw)
    if args.no_release:
        reader_mod._release_pages = None
        no_trim = SimpleNamespace(release_unused=lambda: None)
        governor_mod.pa = SimpleNamespace(default_memory_pool=lambda: no_trim)  # type: ignore[assignment]

    app = QCoreApplication.instance() or QCoreApplication([])
    apply_process_settings(gui=False)  # as `viewer ingest` does
    base = _status()
    hub = IngestHub(IngestSettings(web_mode=args.web, memory_limit_bytes=limit))
    peak_store = 0

    def on_frame(_changes: object) -> None:
        nonlocal peak_store
        peak_store = max(peak_store, sum(db.nbytes for db in hub.dbs().values()))

    hub.frame_applied.connect(on_frame)
    t0 = time.perf_counter()
    hub.open_file(path)
    samples = []
    while not hub.run_until_idle(0.05):
        s = _status()
        samples.append((time.perf_counter() - t0, s["RssAnon"], s["RssFile"]))
    wall = time.perf_counter() - t0
    end = _status()
    hub.shutdown()
    del app
    mb = 1e6
    print(f"file {path.stat().st_size / mb:.0f} MB ({'raw' if args.raw else 'lz4'}), limit "
          f"{limit / mb:.0f} MB, {'web' if args.web else 'threaded'}, release "
          f"{'off' if args.no_release else 'on'}: loaded in {wall:.2f} s")
    print(f"  store peak {peak_store / mb:.1f} MB; governor peak (store + queues) "
          f"{hub.memory.peak_used_bytes / mb:.1f} MB; evicted {hub.memory.dropped_chunks_total}"
          " chunks")
    print(f"  RSS baseline {base['VmRSS'] / mb:.0f} MB (anon {base['RssAnon'] / mb:.0f}, file "
          f"{base['RssFile'] / mb:.0f}); peak {end['VmHWM'] / mb:.0f} MB "
          f"(+{(end['VmHWM'] - base['VmRSS']) / mb:.0f} MB)")
    if samples:
        print(f"  while loading: anon max {max(s[1] for s in samples) / mb:.0f} MB, file max "
              f"{max(s[2] for s in samples) / mb:.0f} MB")
    path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
