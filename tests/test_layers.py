"""The layer rule: no Qt below ``ingest``; ``ingest``/``net`` use QtCore only."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_log_and_store_import_without_qt():
    code = (
        "import sys, viewer.log.reader, viewer.log.writer, viewer.store.entity_db;"
        "bad=[m for m in sys.modules if m.startswith(('PySide6','pyqtgraph','shiboken6'))];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def _imported_modules(path: Path) -> set[str]:
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_ingest_and_net_use_qtcore_only():
    offenders = []
    for folder in ("ingest", "net"):
        for path in sorted((ROOT / "viewer" / folder).rglob("*.py")):
            for mod in _imported_modules(path):
                if mod.startswith("PySide6") and mod not in ("PySide6", "PySide6.QtCore"):
                    offenders.append(f"{path.relative_to(ROOT)}: {mod}")
    assert not offenders, offenders
