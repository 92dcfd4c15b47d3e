"""--install-desktop / --uninstall-desktop into a temporary XDG data home: exactly the files
expected, a valid desktop entry, the file types known to shared-mime-info, and a clean
removal that leaves everything else alone."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from viewer.commands import desktop
from viewer.commands.cli import main
from viewer.commands.desktop import (
    MIME_TYPES,
    PNG_SIZES,
    desktop_entry_text,
    planned_files,
    resources_dir,
)

EXPECTED = sorted(
    ["applications/rrd-viewer.desktop", "mime/packages/rrd-viewer.xml",
     "icons/hicolor/scalable/apps/rrd-viewer.svg"]
    + [f"icons/hicolor/{n}x{n}/apps/rrd-viewer.png" for n in PNG_SIZES])


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def tool_outputs(paths: set[str]) -> set[str]:
    """Caches the system tools write (not ours to list or remove)."""
    return {p for p in paths if (p.startswith("mime/") and not p.startswith("mime/packages/"))
            or p in ("applications/mimeinfo.cache", "icons/hicolor/icon-theme.cache")}


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_install_then_uninstall_exactly_our_files(xdg: Path, capsys: pytest.CaptureFixture,
                                                  ) -> None:
    foreign = xdg / "applications" / "other.desktop"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other\n")
    assert main(["--install-desktop"]) == 0
    out = capsys.readouterr().out
    after = files_under(xdg)
    assert sorted(after - tool_outputs(after) - {"applications/other.desktop"}) == EXPECTED
    assert out.count("installed ") == len(EXPECTED)
    for n in PNG_SIZES:
        assert png_size(xdg / f"icons/hicolor/{n}x{n}/apps/rrd-viewer.png") == (n, n)
    entry = (xdg / "applications" / "rrd-viewer.desktop").read_text()
    assert "MimeType=application/x-rerun-rrd;application/x-rerun-rbl;" in entry
    exec_line = next(line for line in entry.splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(" %F") and "/" in exec_line  # an absolute command
    if shutil.which("desktop-file-validate"):
        done = subprocess.run(["desktop-file-validate", str(xdg / "applications/rrd-viewer.desktop")],
                              capture_output=True, text=True)
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout
    if shutil.which("update-mime-database"):
        globs = (xdg / "mime" / "globs2").read_text()
        assert "application/x-rerun-rrd:*.rrd" in globs
        assert "application/x-rerun-rbl:*.rbl" in globs
        assert "refreshed the MIME database" in out
    if shutil.which("update-desktop-database"):
        cache = (xdg / "applications" / "mimeinfo.cache").read_text()
        assert "application/x-rerun-rrd=rrd-viewer.desktop;" in cache

    assert main(["--uninstall-desktop"]) == 0
    out = capsys.readouterr().out
    assert out.count("removed ") == len(EXPECTED)
    left = files_under(xdg)
    assert left - tool_outputs(left) == {"applications/other.desktop"}
    if shutil.which("update-mime-database"):
        assert "x-rerun" not in (xdg / "mime" / "globs2").read_text()
    assert main(["--uninstall-desktop"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_missing_tools_are_named(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(desktop.shutil, "which", lambda name: None)
    calls: list[list[str]] = []
    report = desktop.install(xdg, command=["/opt/rrd viewer/bin/rrd-viewer"],
                             runner=lambda argv: calls.append(list(argv)))  # type: ignore[arg-type,func-returns-value]
    assert not calls and not report.failed
    text = "\n".join(report.notes)
    assert "update-mime-database not found" in text and "shared-mime-info" in text
    assert "update-desktop-database not found" in text and "desktop-file-utils" in text
    assert len(report.installed) == len(EXPECTED)


def test_exec_line_quotes_paths_with_spaces() -> None:
    template = (resources_dir() / "rrd-viewer.desktop").read_text()
    text = desktop_entry_text(template, ["/opt/my tools/rrd-viewer", "--port", "9%"])
    assert 'Exec="/opt/my tools/rrd-viewer" --port 9%% %F' in text.splitlines()
    assert "TryExec=/opt/my tools/rrd-viewer" in text.splitlines()


def test_shipped_resources_are_complete() -> None:
    res = resources_dir()
    for src, _dest in planned_files(Path("/x")):
        assert src.is_file(), src
        assert src.resolve().is_relative_to(res.resolve())
    mime = (res / "rrd-viewer-mime.xml").read_text()
    for mime_type in MIME_TYPES:
        assert f'type="{mime_type}"' in mime
    # the package carries the same folder (a wheel gets copies through this link)
    assert (Path(desktop.__file__).parents[1] / "desktop_resources" / "rrd-viewer.desktop").is_file()
