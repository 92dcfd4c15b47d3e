"""The missing-library check that runs before any QApplication: a failed load of Qt's
platform plugin is simulated with the report ``ldd`` gives when libxcb-cursor0 is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from viewer.commands import qt_platform
from viewer.commands.cli import main
from viewer.commands.qt_platform import (
    debian_package,
    missing_libraries,
    platform_problem,
    plugin_file,
    requested_platform,
)

# What ldd prints for PySide6's libqxcb.so on a server without libxcb-cursor0 (shortened).
LDD_WITHOUT_CURSOR = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f1)
\tlibxcb-cursor.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f2)
"""


def test_debian_package_names() -> None:
    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_package("libX11-xcb.so.1") == "libx11-xcb1"
    assert debian_package("libEGL.so.1") == "libegl1"
    assert debian_package("libglib-2.0.so.0") == "libglib2.0-0"


def test_requested_platform() -> None:
    assert requested_platform({}) == "xcb"
    assert requested_platform({"QT_QPA_PLATFORM": "offscreen"}) == "offscreen"
    assert requested_platform({"QT_QPA_PLATFORM": "wayland;xcb"}) == "wayland"
    assert requested_platform({"QT_QPA_PLATFORM": "vnc:size=800x600"}) == "vnc"
    assert requested_platform({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "w-0"}) == \
        "wayland"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux plugins only")
def test_simulated_missing_library_names_library_and_package() -> None:
    plugin = plugin_file("xcb")
    assert plugin is not None and plugin.name == "libqxcb.so"
    msg = platform_problem({"DISPLAY": ":0"}, ldd=lambda path: LDD_WITHOUT_CURSOR)
    assert msg is not None
    assert "libxcb-cursor.so.0" in msg and "libxkbcommon-x11.so.0" in msg
    assert "sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0" in msg
    assert "--screenshot" in msg and "QT_QPA_PLATFORM=offscreen" in msg
    # offscreen needs no outside library: never checked
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"},
                            ldd=lambda path: LDD_WITHOUT_CURSOR) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux plugins only")
def test_real_plugin_report_parses() -> None:
    """This machine's own ldd report of the real plugin: whatever it lists as not found
    is exactly what the check reports."""
    plugin = plugin_file("xcb")
    assert plugin is not None
    report = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    expected = sorted({line.split()[0] for line in report.splitlines() if "not found" in line})
    assert missing_libraries(plugin) == expected
    assert "libQt6XcbQpa.so.6" in report  # ldd really looked at the plugin


def test_window_command_stops_before_qt(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    """`rrd-viewer FILE` with the library missing: exit 1 and the message, no QApplication
    (the GUI module is never asked to run)."""
    import viewer.ui.app

    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(qt_platform, "run_ldd", lambda path: LDD_WITHOUT_CURSOR)
    monkeypatch.setattr(qt_platform.sys, "platform", "linux")

    def no_gui(args: object) -> int:
        raise AssertionError("the window must not start")

    monkeypatch.setattr(viewer.ui.app, "run_gui", no_gui)
    code = main(["--no-serve", "--new-window", "--port", "1", str(tmp_path / "a.rrd")])
    assert code == 1
    err = capsys.readouterr().err
    assert "libxcb-cursor.so.0" in err and "apt-get install libxcb-cursor0" in err


def test_screenshot_falls_back_to_offscreen(monkeypatch: pytest.MonkeyPatch) -> None:
    """--screenshot is the way to run without the library: it draws offscreen."""
    import viewer.ui.app

    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(qt_platform, "run_ldd", lambda path: LDD_WITHOUT_CURSOR)
    seen: dict[str, str | None] = {}

    def fake_gui(args: object) -> int:
        import os

        seen["platform"] = os.environ.get("QT_QPA_PLATFORM")
        return 0

    monkeypatch.setattr(viewer.ui.app, "run_gui", fake_gui)
    assert main(["--no-serve", "--screenshot", "out.png"]) == 0
    assert seen["platform"] == "offscreen"


def test_no_display_is_named_before_qt(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture) -> None:
    """No DISPLAY and no Wayland socket: Qt would abort on connecting; we say why first."""
    import viewer.ui.app

    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(qt_platform, "run_ldd", lambda path: "")  # every library present
    monkeypatch.setattr(viewer.ui.app, "run_gui", lambda args: 0)
    assert main(["--no-serve"]) == 1
    assert "no display" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux plugins only")
def test_real_command_with_a_loader_that_misses_the_library(tmp_path: Path) -> None:
    """The real `rrd-viewer` process, with an ``ldd`` on PATH that reports the library
    missing: it exits 1 with the hint instead of Qt's abort."""
    import os

    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    ldd = fake_bin / "ldd"
    ldd.write_text("#!/bin/sh\ncat <<'EOF'\n" + LDD_WITHOUT_CURSOR + "EOF\n")
    ldd.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(PATH=f"{fake_bin}{os.pathsep}{env.get('PATH', '')}", DISPLAY=":99",
               XDG_RUNTIME_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "viewer", "--no-serve", "--new-window"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "libxcb-cursor.so.0" in done.stderr
    assert "sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0" in done.stderr
    assert "Could not load the Qt platform plugin" not in done.stderr
