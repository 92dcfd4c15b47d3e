"""The command line: ``viewer [FILES]``, ``viewer inspect``, ``viewer ingest``, ``viewer layout``.

Only argument parsing lives here; each command's work is in its own module so that
``inspect`` and ``layout`` never import Qt and the GUI is imported only when it is started.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from viewer.exit_codes import EXIT_USAGE
from viewer.exit_codes import HELP as EXIT_HELP

DEFAULT_PORT = 9876
DEFAULT_BIND = "127.0.0.1"


def _add_ingest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--web-mode", action="store_true",
                   help="ingest synchronously on the UI thread within a per-frame budget (as a browser build would)")
    p.add_argument("--memory-limit", default=None,
                   help="e.g. 2GB, 500MB, 50%% (of RAM) or unlimited; default 75%% of RAM")
    p.add_argument("--profile", metavar="TRACE_JSON", default=None,
                   help="write a Chrome trace-event file (open in Perfetto)")


def _add_serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"gRPC port (default {DEFAULT_PORT})")
    p.add_argument("--bind", default=DEFAULT_BIND, help=f"address to listen on (default {DEFAULT_BIND})")


def build_gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="viewer", epilog=EXIT_HELP,
        description="Desktop viewer for Rerun recordings (.rrd/.rbl). "
        "Subcommands: 'viewer inspect FILE...', 'viewer ingest FILE...', 'viewer layout FILE...'.",
    )
    p.add_argument("files", nargs="*", help=".rrd/.rbl files or folders to open (none: a demo recording)")
    _add_ingest_options(p)
    _add_serve_options(p)
    p.add_argument("--no-serve", action="store_true", help="do not listen for live streams")
    p.add_argument("--screenshot", metavar="PNG", default=None,
                   help="load everything, draw the views, save a PNG of the window and exit")
    p.add_argument("--window-size", metavar="WxH", default=None, help="window size, e.g. 1600x900")
    return p


def build_inspect_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="viewer inspect", epilog=EXIT_HELP,
                                description="List stores, entities, rows, timelines and errors (no Qt).")
    p.add_argument("files", nargs="+", help=".rrd/.rbl files")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def build_ingest_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="viewer ingest", epilog=EXIT_HELP,
                                description="Run the real ingestion pipeline headlessly and print a summary.")
    p.add_argument("files", nargs="*", help=".rrd/.rbl files")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_ingest_options(p)
    p.add_argument("--serve", action="store_true", help="also receive live streams (gRPC)")
    _add_serve_options(p)
    p.add_argument("--idle-exit", type=float, default=2.0, metavar="SECONDS",
                   help="with --serve: exit once no stream has been open for this long")
    return p


def build_layout_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="viewer layout", epilog=EXIT_HELP,
        description="The views each recording opens with (no blueprint) and what they draw at "
        "one time: archetypes, instances, transforms; entities no view shows (no Qt).")
    p.add_argument("files", nargs="+", help=".rrd/.rbl files or folders")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeline", default=None, metavar="NAME",
                   help="timeline of the cursor (default: the recording's first own timeline, "
                   "sequences first)")
    p.add_argument("--time", default=None, metavar="T",
                   help="a sequence number; on temporal timelines nanoseconds or ISO-8601 "
                   "(2023-11-14T22:13:23Z, PT3.5S); default: the end of the timeline")
    return p


def parse_window_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--window-size must look like 1600x900, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise argparse.ArgumentTypeError(f"--window-size must be positive, got {text!r}")
    return w, h


def _check_memory_limit(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Parse --memory-limit into ``args.memory_limit_bytes`` (None = unlimited); a bad value
    is a usage error (exit 2) naming it."""
    from viewer.store.memory import parse_memory_limit

    try:
        args.memory_limit_bytes = parse_memory_limit(args.memory_limit)
    except ValueError as exc:
        parser.error(str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list[:1] == ["inspect"]:
            args = build_inspect_parser().parse_args(args_list[1:])
            from viewer.inspect_cmd import run_inspect

            return run_inspect(args)
        if args_list[:1] == ["layout"]:
            args = build_layout_parser().parse_args(args_list[1:])
            from viewer.layout_cmd import run_layout

            return run_layout(args)
        if args_list[:1] == ["ingest"]:
            parser = build_ingest_parser()
            args = parser.parse_args(args_list[1:])
            if not args.files and not args.serve:
                parser.error("give at least one file, or --serve")
            _check_memory_limit(parser, args)
            from viewer.ingest_cmd import run_ingest

            return run_ingest(args)
        parser = build_gui_parser()
        args = parser.parse_args(args_list)
        try:
            args.window_size = parse_window_size(args.window_size)
        except argparse.ArgumentTypeError as exc:
            parser.error(str(exc))
        _check_memory_limit(parser, args)
        from viewer.ui.app import run_gui

        return run_gui(args)
    except SystemExit as exc:  # argparse exits 2 on usage errors; keep its code
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
