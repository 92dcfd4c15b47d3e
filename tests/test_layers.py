"""The layer rule: no Qt below ``ingest``; ``ingest``/``net`` use QtCore only; no import
cycles inside a layer (import-linter); no module reads another module's private names."""

import ast
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


#: ``x._name`` reads that are fine: the standard library's documented underscore API.
_PRIVATE_ALLOWED = {"os._exit"}


def _own_private_names(tree: ast.Module) -> set[str]:
    """Underscore names a module defines itself: functions, classes, attributes it assigns
    (``self._x = ...``, ``obj._x = ...``), variables, arguments and ``__slots__`` entries."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Name) and target.id == "__slots__"
                        and isinstance(node.value, ast.Tuple | ast.List)):
                    names.update(e.value for e in node.value.elts
                                 if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return {n for n in names if n.startswith("_")}


def private_reads(path: Path, root: Path = ROOT) -> list[str]:
    """``other._name`` in ``path`` where ``_name`` is private to another module: the
    attribute is not dunder, not read from ``self``/``cls``/``super()``, and not a name the
    module defines itself (a pragmatic AST check: a name defined in both modules passes)."""
    tree = ast.parse(path.read_text(), str(path))
    own = _own_private_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        attr, value = node.attr, node.value
        if attr.startswith("__") and attr.endswith("__"):
            continue
        if isinstance(value, ast.Name) and value.id in ("self", "cls"):
            continue
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                and value.func.id == "super"):
            continue
        expr = f"{ast.unparse(value)}.{attr}"
        if attr in own or expr in _PRIVATE_ALLOWED:
            continue
        found.append(f"{path.relative_to(root)}:{node.lineno}: {expr}")
    return found


def test_no_module_reads_another_modules_private_names():
    offenders = [hit for path in sorted((ROOT / "viewer").rglob("*.py"))
                 for hit in private_reads(path)]
    assert not offenders, "\n".join(offenders)


def test_private_read_check_finds_a_cross_module_read(tmp_path):
    """The check itself: a read of another object's private member is found; the module's
    own (assigned here, even on another object of the class) are not."""
    path = tmp_path / "probe.py"
    path.write_text(
        "import os\n"
        "class A:\n"
        "    def __init__(self, hub):\n"
        "        self._own = 1\n"
        "        self._hub = hub\n"
        "    def f(self, other):\n"
        "        os._exit(0)\n"
        "        return self._hub._dbs, other._own, self._own, hub._route\n"
    )
    assert private_reads(path, root=tmp_path) == ["probe.py:8: self._hub._dbs",
                                                  "probe.py:8: hub._route"]
