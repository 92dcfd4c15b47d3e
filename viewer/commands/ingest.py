"""``viewer ingest FILE... [--web-mode] [--decode-threads N] [--json] [--serve]``: the real
pipeline, headless.

Runs `IngestHub` (same threads, queues, frame driver and budgets as the GUI) under a
QCoreApplication until everything is applied, then prints the `viewer inspect` summary plus
pipeline measurements. Exit status: 0 everything read, 1 anything unreadable, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from typing import Any

from viewer.exit_codes import EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE


def _peak_rss_bytes() -> int:
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak) * (1 if sys.platform == "darwin" else 1024)
    except (ImportError, OSError):  # pragma: no cover - non-POSIX
        import psutil

        return int(psutil.Process().memory_info().rss)


def _ms(summary: dict[str, Any]) -> dict[str, float]:
    return {k: round(float(summary[k]), 3) for k in ("p50", "p99", "max")}


def build_report(hub: Any, wall_s: float) -> dict[str, Any]:
    """The JSON document: `summarize` + errors + stats."""
    from viewer.store.summary import summarize

    report: dict[str, Any] = summarize(hub.dbs().values())
    report["errors"] = [{"source": e.source, "message": e.message} for e in hub.errors()]
    snap = hub.stats.snapshot()
    report["stats"] = {
        "decode_threads": hub.settings.decode_threads,
        "wall_s": round(wall_s, 4),
        "messages": snap["messages_applied"],
        "rows": snap["rows_applied"],
        "ui_frame_ms": _ms(snap["frame_interval_ms"]),
        "ui_ingest_ms": _ms(snap["ui_ingest_ms"]),
        "peak_queue_bytes": snap["peak_queue_bytes"],
        "peak_rss_bytes": _peak_rss_bytes(),
        # decode helper processes, summed (not in peak_rss_bytes): their peak RSS, and
        # their private memory (the rest, ring and libraries, shares pages with this one)
        "helper_peak_rss_bytes": sum(getattr(src, "helper_peak_rss_bytes", 0)
                                     for src in hub.sources()),
        "helper_private_bytes": sum(getattr(src, "helper_private_bytes", 0)
                                    for src in hub.sources()),
        "memory": hub.memory.snapshot(),
    }
    return report


def _print_text(report: dict[str, Any]) -> None:
    for store in report["stores"]:
        ents = store["entities"]
        rows = sum(e["rows"] for e in ents.values())
        print(f"{store['kind']} {store['application_id']}/{store['recording_id']}: "
              f"{len(ents)} entities, {rows} rows")
        for path, e in ents.items():
            print(f"  {path}: {e['rows']} rows, {e['chunks']} chunks, "
                  f"timelines {', '.join(e['timelines']) or '(static)'}; "
                  f"{', '.join(e['components'])}")
    for err in report["errors"]:
        print(f"error: {err['source']}: {err['message']}", file=sys.stderr)
    st = report["stats"]
    print(f"ingested {st['messages']} messages, {st['rows']} rows in {st['wall_s']:.3f} s; "
          f"frame interval p50/p99/max {st['ui_frame_ms']['p50']:.1f}/"
          f"{st['ui_frame_ms']['p99']:.1f}/{st['ui_frame_ms']['max']:.1f} ms; "
          f"UI ingest p50/p99/max {st['ui_ingest_ms']['p50']:.2f}/"
          f"{st['ui_ingest_ms']['p99']:.2f}/{st['ui_ingest_ms']['max']:.2f} ms; "
          f"peak queue {st['peak_queue_bytes'] / 1e6:.1f} MB; "
          f"peak RSS {st['peak_rss_bytes'] / 1e6:.0f} MB")
    print(f"decode threads: {st['decode_threads']} (0 = one per recording)")


def run_ingest(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QCoreApplication

    from viewer.commands.progress import track_sources
    from viewer.ingest import IngestHub, IngestSettings
    from viewer.ingest.settings import settings_overrides
    from viewer.ingest.stats import IngestStats
    from viewer.log.inputs import expand_inputs
    from viewer.runtime import apply_process_settings

    app = QCoreApplication.instance() or QCoreApplication(["viewer ingest"])
    profile = getattr(args, "profile", None)
    if profile:
        from viewer.tracing import TRACER

        TRACER.start()
    # --memory-limit was parsed (and a bad value refused) by the command line (cli.py)
    limit = args.memory_limit_bytes
    hub = IngestHub(IngestSettings(web_mode=bool(getattr(args, "web_mode", False)),
                                   memory_limit_bytes=limit, **settings_overrides(args)))
    hub.stats = IngestStats(window_frames=1 << 16, window_samples=1 << 16)  # the whole run
    interrupted = False

    def _on_sigint(*_: object) -> None:
        nonlocal interrupted
        interrupted = True

    old_handler = signal.signal(signal.SIGINT, _on_sigint)
    server = None
    t0 = time.perf_counter()
    try:
        apply_process_settings(gui=False)
        hub.start()
        paths, problems = expand_inputs(args.files)
        for path in paths:
            hub.open_file(path)
        if getattr(args, "serve", False):
            from viewer.net.server import ListenError, LiveServer
            try:
                server = LiveServer(hub, args.bind, args.port)
            except ValueError as exc:  # e.g. --port out of range
                print(f"viewer ingest: {exc}", file=sys.stderr)
                return EXIT_USAGE
            try:
                server.start()
            except ListenError as exc:  # busy port (PortInUseError) or unusable address
                print(f"viewer ingest: {exc}", file=sys.stderr)
                return EXIT_UNREADABLE
            print(f"viewer ingest: listening for rerun-sdk streams on {server.address}",
                  file=sys.stderr)
        idle_exit = float(getattr(args, "idle_exit", 2.0))
        with track_sources(hub.sources, "ingest") as refresh_bar:
            while not interrupted:
                idle = hub.run_until_idle(0.1)
                refresh_bar()
                if not idle:
                    continue
                if server is None:
                    break
                quiet = time.monotonic() - server.last_activity_monotonic()
                if server.open_stream_count() == 0 and quiet >= idle_exit:
                    break
        wall_s = time.perf_counter() - t0
        if server is not None:
            server.stop()
            server = None
            hub.run_until_idle(5.0)  # whatever the last streams delivered
        report = build_report(hub, wall_s)
        report["errors"][:0] = [{"source": arg, "message": msg} for arg, msg in problems]
    finally:
        if server is not None:
            server.stop()
        hub.shutdown()
        signal.signal(signal.SIGINT, old_handler)
        if profile:
            TRACER.stop()
            try:
                TRACER.save(profile)
            except OSError as exc:
                print(f"viewer ingest: could not write the trace {profile}: {exc}",
                      file=sys.stderr)
        del app  # the QCoreApplication stays for the process; nothing to tear down
    if getattr(args, "json", False):
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_text(report)
    if interrupted:
        return EXIT_UNREADABLE
    return EXIT_UNREADABLE if report["errors"] else EXIT_OK
