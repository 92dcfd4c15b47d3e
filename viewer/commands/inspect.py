"""``viewer inspect FILE... [--json]``: stores, entities, rows and errors, without Qt.

Every file is read with our own reader and every chunk is built into one `EntityDb` per
store, so this command exercises the same decoding as the viewer. Stores with the same id
(kind, application id, recording id) merge, also across files; a chunk id seen twice counts
once. Problems never stop the listing: each becomes an entry under "errors" and the exit
code says whether anything was unreadable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa

from viewer.commands.progress import track_entries
from viewer.exit_codes import EXIT_OK, EXIT_UNREADABLE
from viewer.log.arrow import ArrowDecodeError
from viewer.log.inputs import expand_inputs as expand_paths
from viewer.log.messages import ArrowMsg, BlueprintActivationCommand, SetStoreInfo, StoreId
from viewer.log.reader import RrdReader
from viewer.store.chunk import ChunkError
from viewer.store.decode import chunk_from_msg
from viewer.store.entity_db import EntityDb
from viewer.store.summary import summarize

# Whatever a malformed payload or chunk can raise while being decoded and built.
_CHUNK_ERRORS = (ArrowDecodeError, ChunkError, ValueError, TypeError, pa.ArrowException)


@dataclass
class Inspection:
    """Everything gathered from the inputs: one database per store, plus the problems met."""

    dbs: dict[StoreId, EntityDb] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    #: Blueprint activation commands in file order (``viewer layout`` applies them).
    activations: list[BlueprintActivationCommand] = field(default_factory=list)
    #: The file each store was first read from.
    sources: dict[StoreId, str] = field(default_factory=dict)

    def error(self, source: str, message: str) -> None:
        self.errors.append({"source": source, "message": message})

    def db(self, store_id: StoreId, source: str = "") -> EntityDb:
        db = self.dbs.get(store_id)
        if db is None:
            db = self.dbs[store_id] = EntityDb(store_id)
            self.sources[store_id] = source
        return db

    def report(self) -> dict[str, Any]:
        return {"stores": summarize(self.dbs.values())["stores"], "errors": list(self.errors)}


def expand_inputs(args: list[str], inspection: Inspection) -> list[Path]:
    """Files to read (`viewer.log.inputs`: folders expanded, ``-`` for standard input);
    arguments that name nothing readable become errors."""
    paths, problems = expand_paths(args)
    for arg, message in problems:
        inspection.error(arg, message)
    return paths


def inspect_file(path: Path, inspection: Inspection) -> None:
    """Read one file into the store databases; report every message that cannot be used."""
    source = str(path)
    problems: list[tuple[int, str]] = []  # (byte offset, message), reported in file order
    reader = RrdReader(path)
    try:
        for offset, msg in track_entries(reader.entries(), reader.total_bytes,
                                         f"reading {path.name}"):
            if isinstance(msg, SetStoreInfo):
                inspection.db(msg.store_id, source).set_store_info(msg)
            elif isinstance(msg, ArrowMsg):
                try:
                    chunk = chunk_from_msg(msg)
                except _CHUNK_ERRORS as exc:  # a bad chunk costs that chunk only
                    problems.append((offset, f"chunk of {msg.store_id} skipped: {exc}"))
                    continue
                inspection.db(msg.store_id, source).add_chunk(chunk)
            elif isinstance(msg, BlueprintActivationCommand):
                inspection.activations.append(msg)  # selects a blueprint: nothing to count
    finally:
        reader.close()
    problems.extend((err.offset, err.message) for err in reader.errors)
    for offset, message in sorted(problems, key=lambda p: p[0]):
        inspection.error(source, f"at byte {offset}: {message}")


def inspect_paths(args: list[str]) -> Inspection:
    inspection = Inspection()
    for path in expand_inputs(args, inspection):
        inspect_file(path, inspection)
    return inspection


# ------------------------------------------------------------------ human-readable output


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def format_report(report: dict[str, Any]) -> str:
    """A compact listing: a header line per store, a table row per entity, then the errors."""
    lines: list[str] = []
    for store in report["stores"]:
        entities = store["entities"]
        rows = sum(e["rows"] for e in entities.values())
        chunks = sum(e["chunks"] for e in entities.values())
        lines.append(
            f"{store['kind']} {store['application_id']} / {store['recording_id']}: "
            f"{_count(len(entities), 'entity', 'entities')}, "
            f"{_count(rows, 'row')}, {_count(chunks, 'chunk')}"
        )
        if not entities:
            continue
        width = max(len("entity"), *(len(p) for p in entities))
        lines.append(f"  {'entity':<{width}}  {'rows':>7}  {'chunks':>6}  timelines | components")
        for path, info in entities.items():
            timelines = ", ".join(info["timelines"]) or "(static)"
            components = ", ".join(info["components"]) or "-"
            lines.append(
                f"  {path:<{width}}  {info['rows']:>7}  {info['chunks']:>6}  "
                f"{timelines} | {components}"
            )
    if report["errors"]:
        lines.append(_count(len(report["errors"]), "error") + ":")
        lines.extend(f"  {e['source']}: {e['message']}" for e in report["errors"])
    elif not report["stores"]:
        lines.append("no stores")
    return "\n".join(lines)


def run_inspect(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the summary of ``args.files``; 0 if everything was read, 1 otherwise."""
    out = sys.stdout if out is None else out
    inspection = inspect_paths(list(args.files))
    report = inspection.report()
    try:
        if args.json:
            json.dump(report, out, indent=2)
            out.write("\n")
        else:
            out.write(format_report(report) + "\n")
        out.flush()
    except BrokenPipeError:  # `viewer inspect ... | head`: the reader left; exit quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_UNREADABLE if inspection.errors else EXIT_OK
