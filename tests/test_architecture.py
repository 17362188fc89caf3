"""The code's shape, enforced: layering, no import cycles, the public plugin API, short functions.

Imports are read with ``ast`` (nothing is imported), including those inside functions:
a lazy import is still a dependency.

* ``python/emkit``: no cycle between modules or between packages, and every import points
  to the same or a lower layer (``LAYERS``: cli → api → export/predict/testing/report →
  engine → data/ops/models → config/registry → interfaces → plugin_api/storage/console).
* Front ends sit on the public API: the CLI and the napari plugin never import
  ``emkit.engine``, ``emkit.cli`` (the napari plugin) or an underscore module; the napari
  plugin imports only ``emkit`` itself, ``emkit.api`` and the plugin API it registers with.
* Plugins (``plugins/emkit_builtin``, ``plugins/emkit-atomfinder``) import from emkit only
  what docs/plugins.md lists in its "Public plugin API" table -- never ``emkit.engine`` or
  an underscore module.
* No function in ``python/emkit``, the plugins or ``benchmarks/`` has more than
  ``MAX_FUNCTION_LINES`` lines, its nested functions and classes included (a closure-heavy
  function is still one long function).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "python"
PLUGIN_PACKAGES = [ROOT / "plugins" / "emkit_builtin", ROOT / "plugins" / "emkit-atomfinder" / "emkit_atomfinder"]
#: The napari plugin, a front end on the public API.
NAPARI_PACKAGE = ROOT / "plugins" / "emkit-napari" / "emkit_napari"
#: What the napari plugin may import from emkit.
NAPARI_ALLOWED = ("emkit", "emkit.api", "emkit.plugin_api", "emkit.interfaces")
BENCHMARKS = ROOT / "benchmarks"
MAX_FUNCTION_LINES = 80

#: Lowest first; a module may import its own layer and the ones below.
LAYERS: list[tuple[str, ...]] = [
    ("emkit", "emkit._version", "emkit.errors", "emkit.plugin_api", "emkit.storage", "emkit.console"),
    ("emkit.interfaces",),
    ("emkit.config", "emkit.registry"),
    ("emkit.data", "emkit.ops", "emkit.models", "emkit._C"),
    ("emkit.engine",),
    ("emkit.export", "emkit.predict", "emkit.testing", "emkit.report"),
    ("emkit.api",),
    ("emkit.cli", "emkit.__main__"),
]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """Modules ``path`` imports (absolute names; ``from pkg import submodule`` counts the submodule)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            subs = {f"{base}.{alias.name}" for alias in node.names} & known
            found.update(subs)
            if len(subs) < len(node.names):
                found.add(base)
    return found


def emkit_graph() -> dict[str, set[str]]:
    files = {module_name(p, PACKAGE): p for p in PACKAGE.rglob("*.py")}
    known = set(files)
    return {m: {d for d in imported_modules(p, m, known) if d in known and d != m} for m, p in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_of(module: str) -> int:
    best, level = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), i
    assert level is not None, f"{module} belongs to no layer; add its package to LAYERS in {__file__}"
    return level


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_module_cycles():
    assert cycles(emkit_graph()) == []


def test_no_package_cycles():
    packages: dict[str, set[str]] = {}
    for module, deps in emkit_graph().items():
        packages.setdefault(package_of(module), set()).update(
            package_of(d) for d in deps if package_of(d) != package_of(module))
    assert cycles(packages) == []


def test_imports_point_down_the_layers():
    upward = [f"{m} -> {d}" for m, deps in sorted(emkit_graph().items()) for d in sorted(deps)
              if layer_of(d) > layer_of(m)]
    assert upward == []


def public_api() -> list[str]:
    """Modules of the "Public plugin API" table in docs/plugins.md."""
    text = (ROOT / "docs" / "plugins.md").read_text()
    section = text.split("## Public plugin API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(emkit[\w.]*)`", section, flags=re.M)


def test_docs_list_the_public_api():
    listed = public_api()
    assert "emkit.plugin_api" in listed and "emkit.interfaces" in listed
    assert not any(m.startswith("emkit.engine") for m in listed)
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize("package", PLUGIN_PACKAGES, ids=lambda p: p.name)
def test_plugins_import_only_the_public_api(package):
    public = public_api()
    wrong = []
    for path in sorted(package.rglob("*.py")):
        for dep in imported_modules(path, module_name(path, package.parent), set()):
            if dep.split(".")[0] == "emkit" and (underscore_module(dep) or
                                                 not any(dep == p or dep.startswith(p + ".") for p in public)):
                wrong.append(f"{path.relative_to(ROOT)} imports {dep}")
    assert wrong == [], "not in docs/plugins.md's public plugin API:\n" + "\n".join(wrong)


def own_lines(node: ast.AST) -> int:
    """Lines of a function from its first decorator to its end, nested functions and classes included."""
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return node.end_lineno - start + 1


def underscore_module(dep: str) -> bool:
    """``emkit._C``, ``emkit.ops._reference``: a private module (``__init__`` and dunders excepted)."""
    return any(part.startswith("_") and not part.startswith("__") for part in dep.split("."))


def front_end_imports(package: Path) -> list[tuple[str, str]]:
    """(file, imported emkit module) for every emkit import in ``package`` (lazy ones included)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for dep in imported_modules(path, module_name(path, package.parent), set()):
            if dep.split(".")[0] == "emkit":
                found.append((str(path), dep))
    return found


def test_the_cli_sits_on_the_public_api():
    wrong = [f"{f} imports {d}" for f, d in front_end_imports(PACKAGE / "emkit" / "cli")
             if d.startswith("emkit.engine") or underscore_module(d)]
    assert wrong == [], "the CLI must use emkit.api, not the engine or private modules:\n" + "\n".join(wrong)


def test_the_napari_plugin_uses_only_the_public_api():
    wrong = [f"{f} imports {d}" for f, d in front_end_imports(NAPARI_PACKAGE)
             if not any(d == a or (a != "emkit" and d.startswith(a + ".")) for a in NAPARI_ALLOWED)]
    assert wrong == [], "the napari plugin may import only " + ", ".join(NAPARI_ALLOWED) + ":\n" + "\n".join(wrong)


def test_the_front_end_checks_see_a_violation(tmp_path):
    pkg = tmp_path / "emkit_napari"
    pkg.mkdir()
    (pkg / "w.py").write_text("def f():\n    from emkit.engine.loop import trainer\n    import emkit._C\n")
    deps = {d for _, d in front_end_imports(pkg)}
    assert deps == {"emkit.engine.loop", "emkit._C"}
    assert underscore_module("emkit._C") and underscore_module("emkit.ops._reference")
    assert not underscore_module("emkit.api") and not underscore_module("emkit")


def test_functions_are_short():
    long = []
    sources = [*PACKAGE.rglob("*.py"), *NAPARI_PACKAGE.rglob("*.py"), *BENCHMARKS.rglob("*.py"),
               *(p for package in PLUGIN_PACKAGES for p in package.rglob("*.py"))]
    for path in sorted(sources):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and own_lines(node) > MAX_FUNCTION_LINES:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({own_lines(node)} lines)")
    assert long == [], f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_the_checks_see_a_violation(tmp_path):
    """The parser finds relative, lazy and submodule imports, and a cycle is reported."""
    pkg = tmp_path / "emkit" / "engine"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n    from emkit.cli import app\n")
    known = {"emkit.engine.b", "emkit.cli.app"}
    deps = imported_modules(pkg / "a.py", "emkit.engine.a", known)
    assert deps == {"emkit.engine.b", "emkit.cli.app"}
    assert layer_of("emkit.cli.app") > layer_of("emkit.engine.a")
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
