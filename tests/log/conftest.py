"""Session fixtures for the log tests: rerun-sdk with a temp HOME, and SDK-written files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from rrd_samples import write_sdk_file


@pytest.fixture(scope="session")
def rerun_sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The rerun module, with its config/analytics files kept in a temp HOME."""
    home = tmp_path_factory.mktemp("rerun_home")
    patch = pytest.MonkeyPatch()
    for var in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        patch.setenv(var, str(home))
    patch.setenv("RERUN_TELEMETRY", "0")
    try:
        yield pytest.importorskip("rerun")
    finally:
        patch.undo()


@pytest.fixture(scope="session")
def sdk_files(rerun_sdk, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Named files written by the SDK: ``mixed`` (footer + blueprint), ``plain`` (no
    blueprint), ``no_footer``, ``second`` (another recording, for concatenation)."""
    folder = tmp_path_factory.mktemp("sdk_files")
    rr = rerun_sdk
    return {
        "mixed": write_sdk_file(rr, folder / "mixed.rrd"),
        "plain": write_sdk_file(rr, folder / "plain.rrd", rec_id="plain", blueprint=False),
        "no_footer": write_sdk_file(
            rr, folder / "no_footer.rrd", rec_id="nf", blueprint=False, footer=False, frames=20
        ),
        "second": write_sdk_file(
            rr, folder / "second.rrd", rec_id="second", blueprint=False, frames=15, seed=1
        ),
    }


@pytest.fixture()
def sin_streams(data_dir: Path) -> list:
    """The decompressed one-batch IPC streams of ``/plots/sin`` in ``scalars.rrd``, in file
    order (a run of same-schema chunks, for the joined-stream tests)."""
    from viewer.log.arrow import decompress_payload, read_single_batch
    from viewer.log.messages import ArrowMsg
    from viewer.log.reader import read_rrd

    msgs, errors = read_rrd(data_dir / "scalars.rrd")
    assert not errors
    out = []
    for m in msgs:
        if isinstance(m, ArrowMsg):
            data, _ = decompress_payload(m)
            if read_single_batch(data).schema.metadata[b"rerun:entity_path"] == b"/plots/sin":
                out.append(data)
    return out
