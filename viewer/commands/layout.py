"""``viewer layout FILE... [--json] [--timeline NAME] [--time T]``: the views, no window.

Files are read like ``viewer inspect`` reads them (our reader, one `EntityDb` per store);
for every recording the views it would open with, and what each view draws at the time
cursor, come from the scene layer (`viewer.scene.layout`), the same code the window uses.
A blueprint for a recording's application (carried by the recording, or in an ``.rbl`` given
next to it) lays its views out as in the window; blueprint stores themselves are not listed.

Exit codes: 0 all read; 1 a file was missing or damaged (the rest is still printed, the
problems go to stderr); 2 a usage error (bad ``--time``, a timeline no recording has).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from viewer.commands.inspect import Inspection, inspect_paths
from viewer.exit_codes import EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE
from viewer.log.messages import StoreKind
from viewer.scene.blueprint import Blueprint, read_blueprint
from viewer.scene.blueprint_choice import BlueprintChoice
from viewer.scene.layout import TimeParseError, recording_layout, time_cursor
from viewer.store.chunk import TimelineKind
from viewer.store.entity_db import EntityDb


class LayoutError(ValueError):
    """A request that cannot be answered (unknown timeline, bad time)."""


def blueprints_for(inspection: Inspection) -> dict[str, tuple[str, Blueprint]]:
    """Application id -> (label, blueprint) of the blueprint that lays it out, chosen as
    the window chooses (activation commands in file order, the default otherwise). The
    label is "recording" when the blueprint came in the same file as a recording of the
    application, else the name of its file."""
    choice = BlueprintChoice()
    for sid in inspection.dbs:
        choice.add_store(sid)
    for cmd in inspection.activations:
        choice.on_activation(cmd)
    out: dict[str, tuple[str, Blueprint]] = {}
    apps = {sid.application_id for sid in inspection.dbs if sid.kind == StoreKind.RECORDING}
    for app in sorted(apps):
        bsid = choice.store_for(app)
        bdb = inspection.dbs.get(bsid) if bsid is not None else None
        bp = read_blueprint(bdb) if bdb is not None else None
        if bsid is None or bp is None or bp.root is None:
            continue
        source = inspection.sources.get(bsid, "")
        with_recording = any(inspection.sources.get(sid) == source for sid in inspection.dbs
                             if sid.kind == StoreKind.RECORDING and sid.application_id == app)
        out[app] = ("recording" if with_recording else Path(source).name, bp)
    return out


def layout_report(dbs: list[EntityDb], timeline: str | None, time_text: str | None,
                  blueprints: dict[str, tuple[str, Blueprint]] | None = None,
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The JSON report and, per recording, the cursor used ({timeline, time, kind}) and
    the entities that could not be drawn ({errors}). ``blueprints``: per application id,
    the blueprint that lays its recordings out (`blueprints_for`)."""
    if timeline is not None and not any(timeline in db.timelines() for db in dbs):
        known = sorted({name for db in dbs for name in db.timelines()})
        raise LayoutError(f"unknown timeline {timeline!r}; the recordings have: "
                          + (", ".join(known) if known else "no timelines"))
    recordings, cursors = [], []
    for db in dbs:
        try:
            name, t = time_cursor(db, timeline, time_text)
        except TimeParseError as exc:
            raise LayoutError(f"bad --time: {exc}") from None
        kind = db.timelines().get(name) if name is not None else None
        errors: list[str] = []
        blueprint = (blueprints or {}).get(db.store_id.application_id)
        recordings.append(recording_layout(db, name, t, errors, blueprint))
        cursors.append({"timeline": name, "time": t, "kind": kind, "errors": errors})
    return {"recordings": recordings}, cursors


# ------------------------------------------------------------------ human-readable output


def _fmt_time(cursor: dict[str, Any]) -> str:
    if cursor["timeline"] is None:
        return "static data only"
    t = cursor["time"]
    if t is None:
        return f"timeline {cursor['timeline']} (empty)"
    text = f"#{t}" if cursor["kind"] is TimelineKind.SEQUENCE else f"{t} ns"
    return f"timeline {cursor['timeline']} at {text}"


def _fmt_entity(path: str, info: dict[str, Any], width: int) -> str:
    line = f"    {path:<{width}}  {', '.join(info['archetypes']) or '-':<28} {info['instances']:>6}"
    transform = info.get("transform", ...)
    if transform is None:
        line += "  (not connected to the origin)"
    elif transform is not ...:
        x, y, z = transform[3], transform[7], transform[11]
        line += f"  at ({x:.6g}, {y:.6g}, {z:.6g})"
    return line


def format_layout(report: dict[str, Any], cursors: list[dict[str, Any]]) -> str:
    """Per recording: its cursor, each view with its entities, then what is not shown."""
    lines: list[str] = []
    for rec, cursor in zip(report["recordings"], cursors, strict=True):
        lines.append(f"{rec['application_id']} / {rec['recording_id']}: {_fmt_time(cursor)}")
        for view in rec["views"]:
            n = len(view["entities"])
            lines.append(f"  {view['kind']} {view['name']!r} (origin {view['origin']}):"
                         f" {n} {'entity' if n == 1 else 'entities'}")
            if view["entities"]:
                width = max(len(p) for p in view["entities"])
                lines.extend(_fmt_entity(p, info, width) for p, info in view["entities"].items())
        if not rec["views"]:
            lines.append("  no views")
        if cursor["errors"]:
            lines.append("  not drawn:")
            lines.extend(f"    {e}" for e in cursor["errors"])
        if rec["unshown"]:
            lines.append("  not shown:")
            lines.extend(f"    {path}: {reason}" for path, reason in rec["unshown"].items())
    if not report["recordings"]:
        lines.append("no recordings")
    return "\n".join(lines)


def run_layout(args: argparse.Namespace, out: TextIO | None = None,
               err: TextIO | None = None) -> int:
    """Print the default layout of ``args.files``; see the module doc for exit codes."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    inspection = inspect_paths(list(args.files))
    dbs = [db for sid, db in inspection.dbs.items() if sid.kind == StoreKind.RECORDING]
    try:
        report, cursors = layout_report(dbs, args.timeline, args.time,
                                        blueprints_for(inspection))
    except LayoutError as exc:
        err.write(f"viewer layout: error: {exc}\n")
        return EXIT_USAGE
    try:
        if args.json:
            json.dump(report, out, indent=2, ensure_ascii=False)
            out.write("\n")
        else:
            out.write(format_layout(report, cursors) + "\n")
        out.flush()
    except BrokenPipeError:  # `viewer layout ... | head`: the reader left; exit quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    if args.json:  # the human output lists them inline
        for rec, cursor in zip(report["recordings"], cursors, strict=True):
            for problem in cursor["errors"]:
                err.write(f"viewer layout: {rec['recording_id']}: not drawn: {problem}\n")
    for problem in inspection.errors:
        err.write(f"viewer layout: {problem['source']}: {problem['message']}\n")
    return EXIT_UNREADABLE if inspection.errors else EXIT_OK
