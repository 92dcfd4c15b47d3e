"""`HelperRuns`: the decode helper's runs of small chunks, combined into one record batch
each before they cross to the viewer.

The viewer builds one chunk from a run of same-schema messages of one entity
(`viewer.ingest.batch_runs`); reading the joined stream and combining its columns is most of
its decoding thread's time on a file of small chunks. Here the helper does that work on its
own core: the viewer receives one single-batch IPC stream per run, which it only has to
wrap (`ArrowMsg.parts` says how many messages it stands for).

Which messages make a run is `RunSlots`'s business, the same rules and caps the viewer's
workers use. On top of them a run open for `MAX_HOLD` messages closes, so a lone message of
some entity cannot hold back the rest (the workers end their runs whenever their inbox runs
dry; the helper has no such moment). A run whose combined batch cannot be made is passed on
part by part, for the viewer to decode (and report) each as if the helper had not been there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from viewer.log.arrow import schema_message
from viewer.log.joined_stream import StreamFramingError
from viewer.log.messages import ArrowMsg
from viewer.log.run_slots import Run, RunSlots
from viewer.log.sorbet import raw_chunk_id, run_key

__all__ = ["MAX_HOLD", "HelperRuns", "Part", "run_key_of"]

#: A run still open this many messages after its first part closes.
MAX_HOLD = 256


def run_key_of(data: pa.Buffer | memoryview, msg: ArrowMsg) -> bytes | None:
    """The run key of a decompressed message (None: it never joins a run)."""
    if msg.chunk_id is None:
        return None
    return run_key(schema_message(data), raw_chunk_id(msg.chunk_id))


@dataclass(slots=True)
class Part:
    """One message of a run: where it is in the file and what it says."""

    offset: int
    msg: ArrowMsg


#: What goes out, in order: ("run", parts, the combined record batch or None when it could
#: not be made) or ("one", part, its decompressed stream or None: left in the file).
Out = tuple[str, Any, Any]


class HelperRuns(RunSlots):
    """Collects runs; `add`, `single` and `flush` return what is ready to go out, in order."""

    def __init__(self, max_bytes: int, max_rows: int) -> None:
        super().__init__(max_bytes, max_rows, max_hold=MAX_HOLD)

    def add(self, part: Part, data: pa.Buffer, key: bytes) -> list[Out]:
        """A message that may join a run (``data`` is copied before this returns)."""
        msg = part.msg
        nbytes = data.size
        run = self._run_for((key, msg.store_id, bool(msg.is_static)), key, data, nbytes)
        try:
            run.stream.add(data)  # type: ignore[union-attr]
        except StreamFramingError:
            if not run.items:
                self._drop_empty(run)
            return self.single(part, data)
        run.items.append(part)
        run.nbytes += nbytes
        return self._ready()

    def single(self, part: Part, data: pa.Buffer | None) -> list[Out]:
        """A message that goes out alone, in its place (every open run closes first)."""
        return self._place(lambda: [("one", part, data)])

    @property
    def open_offsets(self) -> list[int]:
        """Offsets of the messages held in runs not sent yet."""
        return [p.offset for slot in self._slots for p in slot.items]

    def _build(self, run: Run) -> list[Out]:
        """A closed run as it goes out: one part alone, or its combined batch."""
        stream = run.stream
        assert stream is not None
        try:
            if len(run.items) == 1:
                return [("one", run.items[0], stream.single())]
            return [("run", run.items, self._combine(run))]
        finally:
            stream.release(())

    def _combine(self, run: Run) -> pa.RecordBatch | None:
        """The run's batches as one record batch (its own buffers, not the stream's), or
        None when they cannot be combined (the viewer then decodes each part and reports
        what is wrong with it)."""
        stream = run.stream
        assert stream is not None
        try:
            table = stream.read()
            table.validate(full=True)  # a corrupt offset must not reach the combine
            batches = table.combine_chunks().to_batches()
            del table
        except (pa.ArrowException, ValueError, StreamFramingError):
            return None
        if len(batches) != 1:
            return None
        self._learn_rows(run.run_key, stream.part_bytes, batches[0].num_rows)
        return batches[0]
