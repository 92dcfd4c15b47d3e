"""``rrd-viewer export FILE --entity PATH [--timeline T --from A --to B] -o OUT``: an
entity's values as a table a notebook can read (Parquet, CSV or Arrow IPC), without Qt.

One row per logged row, in log order (RowId), or in time order on ``--timeline``. Columns:
``recording_id``, ``entity``, ``row_id`` (the 16-byte RowId), one per timeline (null where a
row has no time on it: static rows have none) and one per component, named as the store
names them (``Points3D:positions``). Component cells keep Rerun's shape: a list of
instances per row. Parquet and Arrow keep those lists as lists; CSV cannot hold lists, so
there every list cell is flattened to its scalar leaves: a column whose rows hold at most
one leaf becomes a plain column of that leaf (a ``Scalars:scalars`` column is numbers),
otherwise the leaves are written space-separated (``1.5 2 3``); text with several values
per row and anything that has no scalar leaves (structs, unions) is written as JSON.
Parquet cannot store unions, so union columns become JSON text there too.

``PATH/**`` exports the entity and every entity below it. With ``--timeline`` only rows
that have a time on that timeline are written, those between ``--from`` and ``--to``
(both inclusive, in the timeline's units, ISO-8601 accepted as in ``layout --time``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from viewer.commands.progress import progress
from viewer.exit_codes import EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE
from viewer.log.messages import StoreKind
from viewer.store.chunk import Chunk, TimelineKind, row_ids_to_arrow
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath

FORMATS = ("parquet", "csv", "arrow")
SUBTREE = "/**"
META_COLUMNS = ("recording_id", "entity", "row_id")


class ExportError(ValueError):
    """The request cannot be served (unknown entity or timeline, bad time, bad format)."""


@dataclass(frozen=True)
class TimeFilter:
    timeline: str
    t0: int | None = None
    t1: int | None = None


# ------------------------------------------------------------------ selecting


def parse_entity_pattern(text: str) -> tuple[EntityPath, bool]:
    """(path, whole subtree?) of ``--entity``: ``/a/b`` or ``/a/b/**`` (``/**``: all)."""
    text = text.strip()
    subtree = text.endswith(SUBTREE) or text == "**"
    if subtree:
        text = text[: -len(SUBTREE)] if text.endswith(SUBTREE) else ""
    return EntityPath.parse(text or "/"), subtree


def matching_entities(db: EntityDb, path: EntityPath, subtree: bool) -> list[EntityPath]:
    """Entities holding data that the pattern names, sorted."""
    return [e for e in db.entities()
            if e == path or (subtree and (path.is_root or e.is_descendant_of(path)))]


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"parq": "parquet", "feather": "arrow", "ipc": "arrow"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise ExportError(f"cannot tell the format of {str(path)!r}: end it in "
                          ".parquet, .csv or .arrow")
    return fmt


# ------------------------------------------------------------------ the table


def _chunk_rows(chunk: Chunk, time_filter: TimeFilter | None) -> np.ndarray | None:
    """Rows of ``chunk`` to export (None: all of them)."""
    if time_filter is None:
        return None
    column = chunk.timelines.get(time_filter.timeline)
    if column is None:
        return np.empty(0, dtype=np.int64)
    keep = np.ones(len(column.times), dtype=bool)
    if time_filter.t0 is not None:
        keep &= column.times >= time_filter.t0
    if time_filter.t1 is not None:
        keep &= column.times <= time_filter.t1
    return np.flatnonzero(keep)


def chunk_table(chunk: Chunk, recording_id: str, kinds: dict[str, TimelineKind],
                rows: np.ndarray | None = None) -> pa.Table:
    """One chunk's rows as a table (only the columns it has; `concat` fills the rest)."""
    n = chunk.num_rows if rows is None else len(rows)
    take = None if rows is None else pa.array(rows, pa.int64())
    row_ids = chunk.row_ids if rows is None else chunk.row_ids[rows]
    columns: dict[str, pa.Array] = {
        "recording_id": pa.array([recording_id] * n, pa.string()),
        "entity": pa.array([str(chunk.entity_path)] * n, pa.string()),
        "row_id": row_ids_to_arrow(row_ids),
    }
    for name, column in chunk.timelines.items():
        times = column.times if rows is None else column.times[rows]
        columns[name] = pa.array(times, pa.int64()).cast(kinds[name].arrow_type())
    for name, values in chunk.components.items():
        if isinstance(values.type, pa.ExtensionType):
            values = values.storage
        columns[name] = values if take is None else values.take(take)
    return pa.table(columns)


def export_table(db: EntityDb, entities: list[EntityPath],
                 time_filter: TimeFilter | None = None) -> pa.Table:
    """Every logged row of ``entities`` (see the module doc for rows, order and columns)."""
    kinds = db.timelines()
    chunks = [c for e in entities for c in db.chunks_of(e)]
    parts: list[pa.Table] = []
    with progress(f"export {db.store_id.recording_id}", len(chunks)) as bar:
        for chunk in chunks:
            rows = _chunk_rows(chunk, time_filter)
            if rows is None or len(rows):
                parts.append(chunk_table(chunk, db.store_id.recording_id, kinds, rows))
            bar.advance()
    if not parts:
        return _empty_table()
    table = pa.concat_tables(parts, promote_options="permissive")
    return _ordered(table, set(kinds), time_filter)


def _empty_table() -> pa.Table:
    fields = [pa.field("recording_id", pa.string()), pa.field("entity", pa.string()),
              pa.field("row_id", pa.binary(16))]
    return pa.schema(fields).empty_table()


def _ordered(table: pa.Table, known_timelines: set[str],
             time_filter: TimeFilter | None) -> pa.Table:
    """Columns: meta, timelines (sorted), components (sorted); rows by (time,) RowId."""
    names = [n for n in table.column_names if n not in META_COLUMNS]
    timelines = sorted(n for n in names if n in known_timelines)
    components = sorted(n for n in names if n not in known_timelines)
    table = table.select([*META_COLUMNS, *timelines, *components])
    raw = np.frombuffer(table.column("row_id").combine_chunks().buffers()[1], dtype=">u8")
    raw = raw[: 2 * len(table)].reshape(-1, 2) if len(table) else raw.reshape(0, 2)
    keys = [raw[:, 1], raw[:, 0]]
    if time_filter is not None:
        keys.append(table.column(time_filter.timeline).cast(pa.int64()).to_numpy())
    order = np.lexsort(keys)
    if np.all(order[1:] > order[:-1]):
        return table
    return table.take(pa.array(order))


# ------------------------------------------------------------------ writing


def _has_union(t: pa.DataType) -> bool:
    if pa.types.is_union(t):
        return True
    return any(_has_union(t.field(i).type) for i in range(t.num_fields))


def _json_column(column: pa.ChunkedArray) -> pa.Array:
    return pa.array([None if v is None else json.dumps(v, default=_json_default)
                     for v in column.to_pylist()], pa.string())


def _json_default(value: object) -> object:
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _list_leaves(array: pa.Array) -> tuple[pa.Array, np.ndarray] | None:
    """(leaf values, each row's start and end in them) of a (nested) list column, or None
    when its innermost values are not scalars. Offsets are followed down the levels, so a
    sliced column reads its own rows only."""
    offsets = np.arange(array.offset, array.offset + len(array) + 1, dtype=np.int64)
    values = array
    while True:
        t = values.type
        if pa.types.is_fixed_size_list(t):
            offsets = offsets * t.list_size
            values = values.values
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            level = np.frombuffer(values.buffers()[1],
                                  dtype=np.int64 if pa.types.is_large_list(t) else np.int32)
            offsets = level[offsets].astype(np.int64)
            values = values.values
        else:
            break
        if values.offset:  # child arrays that are themselves slices
            offsets = offsets + values.offset
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
            or pa.types.is_boolean(values.type) or pa.types.is_string(values.type)
            or pa.types.is_large_string(values.type)):
        return None
    return values, offsets - values.offset


def csv_column(column: pa.ChunkedArray) -> pa.Array:
    """A component column flattened for CSV (see the module doc)."""
    array = column.combine_chunks()
    if not (pa.types.is_list(array.type) or pa.types.is_large_list(array.type)
            or pa.types.is_fixed_size_list(array.type)):
        return _json_column(column) if _has_union(array.type) or array.type.num_fields else array
    leaves = _list_leaves(array)
    if leaves is None:
        return _json_column(column)
    values, offsets = leaves
    counts = np.diff(offsets)
    is_null = array.is_null().to_numpy(zero_copy_only=False)
    if counts.max(initial=0) <= 1:  # one value per row: keep its type
        picks = np.where(counts == 1, offsets[:-1], -1)
        out = values.take(pa.array(np.where(picks < 0, 0, picks))) if len(values) else \
            pa.nulls(len(array), values.type)
        mask = pa.array((picks < 0) | is_null)
        return pc.if_else(mask, pa.scalar(None, out.type), out) if len(values) else out
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return _json_column(column)
    text = pc.cast(values, pa.string())
    lists = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), text,
                                     mask=pa.array(is_null))
    return pc.binary_join(lists, " ")


_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def _hex_row_ids(column: pa.ChunkedArray) -> pa.Array:
    """RowIds as 32 hex digits (vectorised: a per-row ``bytes.hex()`` took ~1 s per 2 M)."""
    array = column.combine_chunks()
    n = len(array)
    raw = np.frombuffer(array.buffers()[1], np.uint8)[array.offset * 16:(array.offset + n) * 16]
    digits = _HEX[raw.reshape(n, 16)].view("S32").ravel()
    return pa.array(digits, pa.binary(32)).cast(pa.binary()).cast(pa.string())


def to_csv_table(table: pa.Table) -> pa.Table:
    out = {}
    for name in table.column_names:
        column = table.column(name)
        if name == "row_id":
            out[name] = _hex_row_ids(column)
        elif pa.types.is_duration(column.type):
            out[name] = column.cast(pa.int64())
        elif name in META_COLUMNS or pa.types.is_timestamp(column.type) or \
                column.type == pa.int64():
            out[name] = column
        else:
            out[name] = csv_column(column)
    return pa.table(out)


def to_parquet_table(table: pa.Table) -> pa.Table:
    """Union columns (which Parquet cannot store) as JSON text; everything else as is."""
    for i, name in enumerate(table.column_names):
        if _has_union(table.column(name).type):
            table = table.set_column(i, name, _json_column(table.column(name)))
    return table


def write_table(table: pa.Table, out: str | Path, fmt: str | None = None) -> None:
    fmt = fmt or format_of(out)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(to_parquet_table(table), out)
    elif fmt == "csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(to_csv_table(table), out)
    else:
        import pyarrow.feather as feather

        feather.write_feather(table, out, compression="uncompressed")


# ------------------------------------------------------------------ the command


def resolve_time_filter(dbs: list[EntityDb], timeline: str | None, t_from: str | None,
                        t_to: str | None) -> TimeFilter | None:
    if timeline is None:
        if t_from is not None or t_to is not None:
            raise ExportError("--from/--to need --timeline")
        return None
    kinds = {name: kind for db in dbs for name, kind in db.timelines().items()}
    if timeline not in kinds:
        raise ExportError(f"unknown timeline {timeline!r}; the recordings have: "
                          + (", ".join(sorted(kinds)) or "no timelines"))
    from viewer.scene.layout import TimeParseError, parse_time

    try:
        t0 = parse_time(t_from, kinds[timeline]) if t_from is not None else None
        t1 = parse_time(t_to, kinds[timeline]) if t_to is not None else None
    except TimeParseError as exc:
        raise ExportError(f"bad --from/--to: {exc}") from None
    return TimeFilter(timeline, t0, t1)


def export_dbs(dbs: list[EntityDb], pattern: str, out: str | Path,
               time_filter: TimeFilter | None = None) -> tuple[pa.Table, list[EntityPath]]:
    """Export the entities ``pattern`` names from every recording in ``dbs`` to ``out``;
    returns the table written and the entities it holds."""
    fmt = format_of(out)
    path, subtree = parse_entity_pattern(pattern)
    tables, entities = [], []
    for db in dbs:
        found = matching_entities(db, path, subtree)
        if found:
            tables.append(export_table(db, found, time_filter))
            entities.extend(found)
    if not tables:
        known = sorted({str(e) for db in dbs for e in db.entities()})
        hint = "" if subtree else f" (for its subtree: {str(path).rstrip('/')}/**)"
        raise ExportError(f"no entity {pattern!r} holds data{hint}; entities: "
                          + (", ".join(known[:20]) + (" …" if len(known) > 20 else "")))
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables,
                                                                promote_options="permissive")
    write_table(table, out, fmt)
    return table, sorted(set(entities))


def run_export(args: argparse.Namespace) -> int:
    from viewer.commands.inspect import Inspection, expand_inputs, inspect_file

    try:
        format_of(args.output)
    except ExportError as exc:
        print(f"rrd-viewer export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    inspection = Inspection()
    paths = expand_inputs(list(args.files), inspection)
    with progress("reading", len(paths)) as bar:
        for path in paths:
            bar.update(description=f"reading {path.name}")
            inspect_file(path, inspection)
            bar.advance()
    for err in inspection.errors:
        print(f"rrd-viewer export: {err['source']}: {err['message']}", file=sys.stderr)
    dbs = [db for sid, db in inspection.dbs.items() if sid.kind is not StoreKind.BLUEPRINT]
    try:
        time_filter = resolve_time_filter(dbs, args.timeline, args.t_from, args.t_to)
        table, entities = export_dbs(dbs, args.entity, args.output, time_filter)
    except ExportError as exc:
        print(f"rrd-viewer export: {exc}", file=sys.stderr)
        return EXIT_USAGE if dbs else EXIT_UNREADABLE
    except (OSError, pa.ArrowException) as exc:
        print(f"rrd-viewer export: could not write {args.output}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(f"rrd-viewer export: {table.num_rows} rows of {len(entities)} "
          f"{'entity' if len(entities) == 1 else 'entities'}, {table.num_columns} columns "
          f"-> {args.output}", file=sys.stderr)
    return EXIT_UNREADABLE if inspection.errors else EXIT_OK
