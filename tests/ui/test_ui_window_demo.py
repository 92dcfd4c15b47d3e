"""The built-in demo recording: written by our writer, read identically by rerun-sdk and us."""

from __future__ import annotations

import pytest

from viewer.demo import DEMO_APPLICATION_ID, demo_store_id, write_demo_recording
from viewer.log.arrow import decode_arrow_payload
from viewer.log.messages import ArrowMsg
from viewer.log.reader import read_rrd


def test_ui_window_demo_recording_reads_back_with_sdk_and_ours(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    path = write_demo_recording(tmp_path / "demo.rrd", store_id=demo_store_id("demo-test"), frames=120)
    msgs, errors = read_rrd(path)
    assert errors == []
    ours = {}
    for m in msgs:
        if isinstance(m, ArrowMsg):
            batch = decode_arrow_payload(m)
            entity = batch.schema.metadata[b"rerun:entity_path"].decode()
            ours[entity] = ours.get(entity, 0) + batch.num_rows
    assert ours == {"/__properties": 1, "/world/origin": 1, "/plots/sin": 120, "/plots/cos": 120,
                    "/plots/damped": 120, "/world/spiral": 30, "/camera/points": 60,
                    "/camera/image": 12, "/logs": 15}

    rr_chunk = pytest.importorskip("rerun.chunk")
    reader = rr_chunk.RrdReader(str(path))
    [entry] = reader.recordings()
    assert (entry.application_id, entry.recording_id) == (DEMO_APPLICATION_ID, "demo-test")
    sdk = {}
    for chunk in reader.stream(store=entry).to_chunks():
        sdk[chunk.entity_path] = sdk.get(chunk.entity_path, 0) + chunk.num_rows
    assert sdk == ours
