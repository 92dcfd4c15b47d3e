"""The command line: ``rrd-viewer [FILES]``, ``rrd-viewer inspect``, ``ingest``, ``layout``,
``export`` (``viewer`` is the same program under its first name).

Only argument parsing lives here; each command's work is in its own module of this package
so that ``inspect``, ``layout`` and ``export`` never import Qt and the GUI is imported only
when it is started: after the files were offered to a viewer already running
(`viewer.handover`) and after Qt's platform plugin was checked (`qt_platform`), since a
missing system library makes Qt abort the process without a word on what to install.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from viewer.exit_codes import EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE
from viewer.exit_codes import HELP as EXIT_HELP
from viewer.net.protocol import DEFAULT_BIND, DEFAULT_PORT

PROG = "rrd-viewer"
#: `IngestSettings.decode_threads`'s default, for --help without importing the ingest
#: package (it imports Qt); a test keeps the two equal.
DEFAULT_DECODE_THREADS = 1


def parse_decode_threads(text: str) -> int:
    """``--decode-threads``: an integer >= 0 (argparse turns the error into exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def _add_ingest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--web-mode", action="store_true",
                   help="ingest synchronously on the UI thread within a per-frame budget (as a browser build would)")
    p.add_argument("--memory-limit", default=None,
                   help="e.g. 2GB, 500MB, 50%% (of RAM) or unlimited; default 75%% of RAM")
    p.add_argument("--profile", metavar="TRACE_JSON", default=None,
                   help="write a Chrome trace-event file (open in Perfetto)")
    p.add_argument("--decode-threads", type=parse_decode_threads, default=None, metavar="N",
                   help="threads decoding in the background: N shared by all recordings, or 0 "
                   f"for one per recording (default {DEFAULT_DECODE_THREADS}; unused with "
                   "--web-mode)")
    p.add_argument("--decode-helper", choices=("auto", "on", "off"), default="auto",
                   help="read, parse and decompress files in a helper process on another core: "
                   "auto = files of 64 MB or more (default), on = every file, off = never; "
                   "unused with --web-mode")


def _add_serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"gRPC port (default {DEFAULT_PORT})")
    p.add_argument("--bind", default=DEFAULT_BIND, help=f"address to listen on (default {DEFAULT_BIND})")


def build_gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, epilog=EXIT_HELP,
        description="Desktop viewer for Rerun recordings (.rrd/.rbl). "
        f"Subcommands: '{PROG} inspect FILE...', '{PROG} ingest FILE...', "
        f"'{PROG} layout FILE...', '{PROG} export FILE --entity PATH -o OUT'. "
        "Files given while a viewer already listens on the port are handed to it.",
    )
    p.add_argument("files", nargs="*", help=".rrd/.rbl files or folders to open (none: a demo recording)")
    p.add_argument("--new-window", action="store_true",
                   help="open a new window even when a viewer already runs on the port "
                   "(by default the files are handed to it)")
    p.add_argument("--install-desktop", action="store_true",
                   help="install the desktop entry, .rrd/.rbl file types and icons for this user")
    p.add_argument("--uninstall-desktop", action="store_true",
                   help="remove what --install-desktop installed")
    _add_ingest_options(p)
    _add_serve_options(p)
    p.add_argument("--no-serve", action="store_true", help="do not listen for live streams")
    p.add_argument("--screenshot", metavar="PNG", default=None,
                   help="load everything, draw the views, save a PNG of the window and exit")
    p.add_argument("--stats-json", metavar="PATH", default=None,
                   help="at exit (or once --screenshot saved its picture) write the frame "
                   "statistics from the first frame until every file was applied (with "
                   "--screenshot: until the picture was saved) as JSON: ui_frame_ms and "
                   "ui_ingest_ms {p50, p99, max}, frames, load_s, loaded")
    p.add_argument("--window-size", metavar="WxH", default=None, help="window size, e.g. 1600x900")
    p.add_argument("--compare", action="store_true",
                   help="compare runs: each recording's plots also draw the other open "
                   "recordings of its application (View › Compare runs)")
    return p


def build_inspect_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"{PROG} inspect", epilog=EXIT_HELP,
                                description="List stores, entities, rows, timelines and errors (no Qt).")
    p.add_argument("files", nargs="+", help=".rrd/.rbl files")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def build_ingest_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"{PROG} ingest", epilog=EXIT_HELP,
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
        prog=f"{PROG} layout", epilog=EXIT_HELP,
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


def build_export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"{PROG} export", epilog=EXIT_HELP,
        description="Write an entity's logged rows to Parquet, CSV or Arrow (no Qt): one row "
        "per logged row, one column per timeline and per component; lists stay lists in "
        "Parquet/Arrow and are flattened in CSV.")
    p.add_argument("files", nargs="+", help=".rrd files or folders")
    p.add_argument("--entity", required=True, metavar="PATH",
                   help="entity path, e.g. /world/robot; PATH/** for it and everything below")
    p.add_argument("--timeline", default=None, metavar="NAME",
                   help="keep rows on this timeline only, ordered by it")
    p.add_argument("--from", dest="t_from", default=None, metavar="A",
                   help="with --timeline: first time kept (inclusive; sequence number, "
                   "nanoseconds or ISO-8601)")
    p.add_argument("--to", dest="t_to", default=None, metavar="B",
                   help="with --timeline: last time kept (inclusive)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file: .parquet, .csv or .arrow")
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


def hand_over_files(args: argparse.Namespace) -> int | None:
    """Give the files to a viewer already running on the port (one viewer per user), print
    where they went and return the exit code; None when this process should open a window
    (always with --screenshot or --stats-json: they picture or measure this process)."""
    if not args.files or args.new_window or args.screenshot or getattr(args, "stats_json", None):
        return None
    from viewer.handover import hand_over

    result = hand_over(args.files, args.bind, args.port)
    if result is None:
        return None
    for line in result.lines:
        print(f"{PROG}: {line}")
    for path, reason in result.failed:
        print(f"{PROG}: {path}: {reason}", file=sys.stderr)
    return EXIT_UNREADABLE if result.failed else EXIT_OK


def check_display(args: argparse.Namespace) -> str | None:
    """Why Qt could not open a window here, or None. A screenshot needs no display: it is
    drawn offscreen when the display (or a library it needs) is missing."""
    from viewer.commands.qt_platform import platform_problem

    no_display = (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
                  and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"))
    problem = None if no_display and args.screenshot else platform_problem()
    if args.screenshot and (no_display or problem) and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return None
    if problem is None and no_display:
        return (f"{PROG}: cannot open a window: no display (DISPLAY and WAYLAND_DISPLAY are "
                f"unset). Without a display: {PROG} --screenshot OUT.png FILE, or set "
                "QT_QPA_PLATFORM=offscreen.")
    return problem


def _prestart_helper(args: argparse.Namespace) -> None:
    """Start the decode helper before the heavy imports when a file given will want it."""
    from viewer.log import helper_launch

    if getattr(args, "web_mode", False):
        return
    helper_launch.prestart_for(args.files, getattr(args, "decode_helper", "auto"))


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list[:1] == ["inspect"]:
            args = build_inspect_parser().parse_args(args_list[1:])
            from viewer.commands.inspect import run_inspect

            return run_inspect(args)
        if args_list[:1] == ["layout"]:
            args = build_layout_parser().parse_args(args_list[1:])
            from viewer.commands.layout import run_layout

            return run_layout(args)
        if args_list[:1] == ["export"]:
            parser = build_export_parser()
            args = parser.parse_args(args_list[1:])
            if (args.t_from is not None or args.t_to is not None) and args.timeline is None:
                parser.error("--from/--to need --timeline")
            from viewer.commands.export import run_export

            return run_export(args)
        if args_list[:1] == ["ingest"]:
            parser = build_ingest_parser()
            args = parser.parse_args(args_list[1:])
            if not args.files and not args.serve:
                parser.error("give at least one file, or --serve")
            _check_memory_limit(parser, args)
            _prestart_helper(args)
            from viewer.commands.ingest import run_ingest

            return run_ingest(args)
        parser = build_gui_parser()
        args = parser.parse_args(args_list)
        try:
            args.window_size = parse_window_size(args.window_size)
        except argparse.ArgumentTypeError as exc:
            parser.error(str(exc))
        _check_memory_limit(parser, args)
        if args.install_desktop or args.uninstall_desktop:
            if args.install_desktop and args.uninstall_desktop:
                parser.error("--install-desktop and --uninstall-desktop exclude each other")
            from viewer.commands.desktop import run_desktop

            return run_desktop("install" if args.install_desktop else "uninstall")
        handed = hand_over_files(args)
        if handed is not None:
            return handed
        problem = check_display(args)
        if problem is not None:
            print(problem, file=sys.stderr)
            return EXIT_UNREADABLE
        _prestart_helper(args)
        from viewer.ui.app import run_gui

        return run_gui(args)
    except SystemExit as exc:  # argparse exits 2 on usage errors; keep its code
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
