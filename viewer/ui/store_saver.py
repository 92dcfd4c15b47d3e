"""Write one store back to an ``.rrd`` file with our own writer (File > Save recording as)."""

from __future__ import annotations

import os
from pathlib import Path

from viewer.log.arrow import encode_record_batch
from viewer.log.messages import SetStoreInfo, StoreInfo
from viewer.log.writer import RrdWriter
from viewer.store.entity_db import EntityDb


def save_store(db: EntityDb, path: str | Path) -> int:
    """SetStoreInfo then every chunk in arrival order; returns the number of chunks.

    Written to a temporary file next to ``path`` and renamed at the end, so a failure
    (disk full, permission) never leaves a half-written recording under the chosen name.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    info = db.store_info or StoreInfo(db.store_id)
    count = 0
    try:
        with RrdWriter(tmp) as writer:
            writer.write(SetStoreInfo(info))
            for chunk in db.chunks_by_age():
                writer.write(encode_record_batch(chunk.to_record_batch(), db.store_id,
                                                 is_static=chunk.is_static))
                count += 1
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count
