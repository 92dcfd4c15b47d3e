"""End to end with the real rerun-sdk 0.41.0 in subprocesses: ``rr.connect_grpc()`` into our
`LiveServer` and `IngestHub`, in threaded and web mode."""

from __future__ import annotations

import hashlib

import numpy as np
from net_helpers import needs_sdk, wait_process

from viewer.ingest import SourceState
from viewer.log.messages import StoreKind
from viewer.store.entity_path import EntityPath

pytestmark = needs_sdk


def _rows(db) -> dict[str, int]:
    return {str(path): rows for path, rows in db.rows_per_entity.items()}


def _recordings(hub) -> dict[str, object]:
    return {sid.recording_id: db for sid, db in hub.dbs().items() if sid.kind == StoreKind.RECORDING}


MIXED_SCRIPT = """
N = int(sys.argv[2]) if len(sys.argv) > 2 else 120
rec = rr.RecordingStream("net_test", recording_id="mixed")
rec.connect_grpc(URL)
for i in range(N):
    rec.set_time("frame", sequence=i)
    rec.log("plots/sin", rr.Scalars(np.sin(i * 0.1)))
    rec.log("world/points", rr.Points3D(np.full((5, 3), i, dtype=np.float32)))
    rec.log("logs/app", rr.TextLog(f"message {i}", level=rr.TextLogLevel.INFO))
    if i % 10 == 0:
        rec.log("camera/rgb", rr.Image(np.full((6, 8, 3), i, dtype=np.uint8)))
rec.flush()
rec.disconnect()
"""


def test_net_sdk_mixed_archetypes_arrive_exactly(hub, server, start_sdk, qtbot):
    n = 120
    proc = start_sdk(MIXED_SCRIPT, server.url)
    wait_process(qtbot, proc)
    assert hub.run_until_idle(10)

    db = _recordings(hub)["mixed"]
    assert _rows(db) == {
        "/__properties": 1,
        "/plots/sin": n,
        "/world/points": n,
        "/logs/app": n,
        "/camera/rgb": n // 10,
    }
    times, values = db.scalar_series(EntityPath.parse("/plots/sin"), "Scalars:scalars", "frame")
    np.testing.assert_array_equal(times, np.arange(n))
    np.testing.assert_allclose(values, np.sin(np.arange(n) * 0.1))
    hit = db.latest_at(EntityPath.parse("/logs/app"), "TextLog:text", "frame", 57)
    assert hit is not None and hit.value.to_pylist() == ["message 57"]
    [source] = hub.sources()
    assert source.state == SourceState.DONE and not source.errors
    assert source.name.startswith("grpc 127.0.0.1:")
    assert server.open_stream_count() == 0 and server.total_streams == 1
    assert hub.errors() == []


TWO_RECORDINGS_SCRIPT = """
tag = sys.argv[2]
recs = [rr.RecordingStream("net_test", recording_id=f"{tag}-{k}") for k in "ab"]
for rec in recs:
    rec.connect_grpc(URL)
for i in range(200):
    for k, rec in enumerate(recs):
        rec.set_time("frame", sequence=i)
        rec.log("value", rr.Scalars(float(i * (k + 1))))
        if k == 1 and i % 2 == 0:
            rec.log("even", rr.Scalars(float(i)))
for rec in recs:
    rec.flush()
    rec.disconnect()
"""


def test_net_sdk_two_processes_two_recordings_each(hub, server, start_sdk, qtbot):
    procs = [start_sdk(TWO_RECORDINGS_SCRIPT, server.url, tag) for tag in ("p", "q")]
    for proc in procs:
        wait_process(qtbot, proc)
    assert hub.run_until_idle(10)

    recs = _recordings(hub)
    assert sorted(recs) == ["p-a", "p-b", "q-a", "q-b"]
    for tag in ("p", "q"):
        assert _rows(recs[f"{tag}-a"]) == {"/__properties": 1, "/value": 200}
        assert _rows(recs[f"{tag}-b"]) == {"/__properties": 1, "/value": 200, "/even": 100}
        _, values = recs[f"{tag}-b"].scalar_series(
            EntityPath.parse("/value"), "Scalars:scalars", "frame"
        )
        np.testing.assert_array_equal(values, np.arange(200) * 2.0)
    assert server.total_streams == 4  # one call per recording stream
    assert all(src.state == SourceState.DONE for src in hub.sources())
    assert len(hub.sources()) == 4


BLUEPRINT_SCRIPT = """
rec = rr.RecordingStream("net_test", recording_id="with-blueprint")
rec.connect_grpc(URL, default_blueprint=rrb.Blueprint(rrb.TimeSeriesView(origin="/plots")))
for i in range(50):
    rec.set_time("frame", sequence=i)
    rec.log("plots/a", rr.Scalars(float(i)))
rec.flush()
rec.disconnect()
"""


def test_net_sdk_default_blueprint_and_its_activation(hub, server, start_sdk, qtbot):
    seen: list[tuple[object, int]] = []  # (activation, blueprint chunks applied by then)

    def on_frame(changes) -> None:
        for cmd in changes.blueprint_activations:
            db = hub.db(cmd.blueprint_id)
            seen.append((cmd, db.num_chunks if db is not None else -1))

    hub.frame_applied.connect(on_frame)
    wait_process(qtbot, start_sdk(BLUEPRINT_SCRIPT, server.url))
    assert hub.run_until_idle(10)

    blueprints = [sid for sid in hub.dbs() if sid.kind == StoreKind.BLUEPRINT]
    assert len(blueprints) == 1
    bp_db = hub.db(blueprints[0])
    assert bp_db.num_chunks > 0 and bp_db.store_info is not None
    assert len(seen) == 1
    cmd, chunks_before = seen[0]
    assert cmd.blueprint_id == blueprints[0]
    assert cmd.make_default and not cmd.make_active
    assert chunks_before == bp_db.num_chunks  # applied after every blueprint chunk
    assert _rows(_recordings(hub)["with-blueprint"]) == {"/__properties": 1, "/plots/a": 50}


BIG_SCRIPT = """
img = np.random.default_rng(7).integers(0, 256, size=(4000, 4400, 3), dtype=np.uint8)
rec = rr.RecordingStream("net_test", recording_id="big")
rec.connect_grpc(URL)
rec.set_time("frame", sequence=0)
rec.log("camera/big", rr.Image(img))
rec.flush()
rec.disconnect()
print(hashlib.sha256(img.tobytes()).hexdigest())
"""


def test_net_sdk_50mb_chunk_arrives_intact(hub, server, start_sdk, qtbot):
    out = wait_process(qtbot, start_sdk(BIG_SCRIPT, server.url), timeout_s=60)
    assert hub.run_until_idle(20)

    assert server.total_bytes > 50 << 20  # incompressible: one >50 MB gRPC message
    db = _recordings(hub)["big"]
    [chunk] = db.chunks_of(EntityPath.parse("/camera/big"))
    buffer = chunk.components["Image:buffer"].flatten().flatten()
    data = np.asarray(buffer)
    assert data.nbytes == 4000 * 4400 * 3
    assert hashlib.sha256(data.tobytes()).hexdigest() == out.strip()
    assert hub.errors() == []


KILLED_SCRIPT = """
rec = rr.RecordingStream("net_test", recording_id="killed")
rec.connect_grpc(URL)
for i in range(60):
    rec.set_time("frame", sequence=i)
    rec.log("kept", rr.Scalars(float(i)))
rec.flush()
print("READY", flush=True)
time.sleep(60)
"""


def test_net_sdk_client_killed_mid_stream_keeps_its_data(hub, server, start_sdk, qtbot):
    proc = start_sdk(KILLED_SCRIPT, server.url)

    def has_all_rows() -> bool:
        db = _recordings(hub).get("killed")
        return db is not None and _rows(db).get("/kept") == 60

    qtbot.waitUntil(has_all_rows, timeout=20000)
    [source] = hub.sources()
    assert source.state == SourceState.LIVE and server.open_stream_count() == 1

    proc.kill()
    proc.wait(5)
    qtbot.waitUntil(lambda: source.finished, timeout=5000)
    assert hub.run_until_idle(5)
    assert source.state == SourceState.DONE
    assert server.open_stream_count() == 0
    assert _rows(_recordings(hub)["killed"]) == {"/__properties": 1, "/kept": 60}
