"""``rrd-viewer --install-desktop`` / ``--uninstall-desktop``: the desktop entry, the
``.rrd``/``.rbl`` file types and the icons, for the current user, the freedesktop way.

Files go under ``$XDG_DATA_HOME`` (default ``~/.local/share``): ``applications/``,
``mime/packages/`` and ``icons/hicolor/<size>/apps/``. The entry's ``Exec`` names the
command that is running now (an absolute path), so a file manager finds the viewer even
when its virtual environment is not on the desktop session's PATH. Afterwards the MIME,
desktop and icon caches are refreshed with the system's tools when they exist; when one
is missing the report says so (the files still work after the next login or cache
refresh). Uninstalling removes exactly the files installing put there. No Qt here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from viewer.exit_codes import EXIT_OK, EXIT_UNREADABLE

APP_ID = "rrd-viewer"
DESKTOP_FILE = f"{APP_ID}.desktop"
MIME_FILE = f"{APP_ID}-mime.xml"
ICON_SVG = f"{APP_ID}.svg"
MIME_TYPES = ("application/x-rerun-rrd", "application/x-rerun-rbl")
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256)

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def resources_dir() -> Path:
    """The shipped ``resources/``: beside the package in a checkout or an editable install,
    inside it (``viewer/desktop_resources``) in a built wheel."""
    package = Path(__file__).resolve().parents[1]  # viewer/
    for candidate in (package.parent / "resources", package / "desktop_resources"):
        if (candidate / DESKTOP_FILE).is_file():
            return candidate
    raise FileNotFoundError("the desktop resources (rrd-viewer.desktop) are not installed")


def data_home(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    value = env.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():  # the spec ignores relative values
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / ".local" / "share"


def planned_files(home: Path, resources: Path | None = None) -> list[tuple[Path, Path]]:
    """(source, destination) of every file installed."""
    res = resources_dir() if resources is None else resources
    icons = home / "icons" / "hicolor"
    files = [
        (res / DESKTOP_FILE, home / "applications" / DESKTOP_FILE),
        (res / MIME_FILE, home / "mime" / "packages" / f"{APP_ID}.xml"),
        (res / "icons" / ICON_SVG, icons / "scalable" / "apps" / ICON_SVG),
    ]
    files += [(res / "icons" / f"{APP_ID}-{n}.png", icons / f"{n}x{n}" / "apps" / f"{APP_ID}.png")
              for n in PNG_SIZES]
    return files


def launch_command() -> list[str]:
    """How a desktop starts this viewer: the ``rrd-viewer`` script next to this Python (or
    the one on PATH), else this Python with ``-m viewer``."""
    beside = Path(sys.executable).with_name(APP_ID)
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which(APP_ID)
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", "viewer"]


def _quote_exec_arg(arg: str) -> str:
    """An Exec argument as the desktop entry spec wants it: plain when it can be, else in
    double quotes with ``"`, ``$``, backquote and backslash escaped; ``%`` doubled."""
    arg = arg.replace("%", "%%")
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def desktop_entry_text(template: str, command: Sequence[str]) -> str:
    """The shipped entry with ``Exec``/``TryExec`` pointing at ``command``."""
    exec_line = " ".join(_quote_exec_arg(a) for a in command) + " %F"
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line}"
        elif line.startswith("TryExec="):
            line = f"TryExec={command[0]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class DesktopReport:
    installed: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _run_tool(runner: Runner, argv: list[str], report: DesktopReport, what: str) -> None:
    if shutil.which(argv[0]) is None:
        report.notes.append(f"{argv[0]} not found: the {what} is refreshed at the next login "
                            f"(on Debian/Ubuntu it comes with {_TOOL_PACKAGES[argv[0]]})")
        return
    try:
        done = runner(argv)
    except OSError as exc:
        report.failed.append(f"{' '.join(argv)}: {exc}")
        return
    if done.returncode != 0:
        report.failed.append(f"{' '.join(argv)} exited {done.returncode}: "
                             f"{(done.stderr or '').strip()}")
    else:
        report.notes.append(f"refreshed the {what} ({argv[0]})")


_TOOL_PACKAGES = {
    "update-mime-database": "shared-mime-info",
    "update-desktop-database": "desktop-file-utils",
    "gtk-update-icon-cache": "libgtk-3-bin",
}


def _default_runner(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)


def refresh_caches(home: Path, report: DesktopReport, runner: Runner = _default_runner) -> None:
    (home / "mime" / "packages").mkdir(parents=True, exist_ok=True)
    (home / "applications").mkdir(parents=True, exist_ok=True)
    _run_tool(runner, ["update-mime-database", str(home / "mime")], report, "MIME database")
    _run_tool(runner, ["update-desktop-database", str(home / "applications")], report,
              "desktop database")
    hicolor = home / "icons" / "hicolor"
    if (hicolor / "index.theme").is_file():  # the tool refuses a theme folder without one
        _run_tool(runner, ["gtk-update-icon-cache", "-f", "-t", str(hicolor)], report,
                  "icon cache")


def install(home: Path | None = None, *, command: Sequence[str] | None = None,
            runner: Runner = _default_runner) -> DesktopReport:
    home = data_home() if home is None else home
    report = DesktopReport()
    command = launch_command() if command is None else list(command)
    for src, dest in planned_files(home):
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.name == DESKTOP_FILE:
            dest.write_text(desktop_entry_text(src.read_text(encoding="utf-8"), command),
                            encoding="utf-8")
        else:
            shutil.copyfile(src, dest)
        report.installed.append(dest)
    refresh_caches(home, report, runner)
    return report


def uninstall(home: Path | None = None, *, runner: Runner = _default_runner) -> DesktopReport:
    home = data_home() if home is None else home
    report = DesktopReport()
    for _src, dest in planned_files(home):
        if dest.is_file() or dest.is_symlink():
            dest.unlink()
            report.removed.append(dest)
    refresh_caches(home, report, runner)
    return report


def run_desktop(action: str) -> int:
    """``action`` "install" or "uninstall": do it, then print each file and what was
    refreshed (or why not)."""
    try:
        report = install() if action == "install" else uninstall()
    except OSError as exc:
        print(f"rrd-viewer: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    for path in report.installed:
        print(f"installed {path}")
    for path in report.removed:
        print(f"removed {path}")
    if action != "install" and not report.removed:
        print("nothing to remove: the desktop entry was not installed")
    for note in report.notes:
        print(note)
    for failure in report.failed:
        print(f"rrd-viewer: {failure}", file=sys.stderr)
    return EXIT_UNREADABLE if report.failed else EXIT_OK
