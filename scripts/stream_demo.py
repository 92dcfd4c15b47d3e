"""Stream a recording into a listening viewer over the live protocol, without rerun-sdk.

Examples (from the repository root)::

    .venv/bin/python scripts/stream_demo.py --demo
    .venv/bin/python scripts/stream_demo.py --file tests/data/mixed.rrd --rate 200
    .venv/bin/python scripts/stream_demo.py --demo --chunks 20000 --rows-per-chunk 1

Prints one JSON line with messages, bytes and seconds. Exit code 1 when the viewer cannot be
reached or ends the stream with an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from viewer.net.protocol import DEFAULT_ADDRESS  # noqa: E402
from viewer.net.sender import SendError, stream_demo, stream_file  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--file", metavar="F", help="an .rrd/.rbl file to replay")
    what.add_argument("--demo", action="store_true", help="a generated Scalars recording")
    p.add_argument("--address", default=DEFAULT_ADDRESS, help=f"host:port (default {DEFAULT_ADDRESS})")
    p.add_argument("--rate", type=float, default=None, metavar="HZ",
                   help="messages per second (default: as fast as possible)")
    p.add_argument("--chunks", type=int, default=200, metavar="N", help="demo: number of chunks")
    p.add_argument("--rows-per-chunk", type=int, default=100, metavar="R", help="demo: rows per chunk")
    p.add_argument("--entities", type=int, default=4, help="demo: number of entities")
    p.add_argument("--recording-id", default=None, help="demo: recording id (default: random)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.file:
            stats = stream_file(args.file, args.address, args.rate)
        else:
            stats = stream_demo(
                args.address,
                args.rate,
                chunks=args.chunks,
                rows_per_chunk=args.rows_per_chunk,
                entities=args.entities,
                recording_id=args.recording_id,
            )
    except (SendError, OSError, ValueError) as exc:
        print(f"stream_demo: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"messages": stats.messages, "bytes": stats.bytes,
                      "seconds": round(stats.seconds, 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
