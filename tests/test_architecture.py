"""The house holds: arrows point down, one reader of the environment, one error tree, one public surface.

The layers of ``latm/`` (``docs/architecture.md``), lowest first; a module may import its own layer's
modules (never in a circle) and those of lower layers, and the leaves (sandbox, toolcache, tasks).
"""

import ast
import re
import types
from pathlib import Path

import pytest

import latm
from latm.errors import LEAF_ERRORS, LATMError, RunError, ours

ROOT = Path(__file__).resolve().parents[1]
LAYERS: list[tuple[str, ...]] = [
    ("latm.errors", "latm.settings", "latm._aio", "latm.tracing", "latm.text"),
    ("latm.models", "latm.replies"),
    ("latm.judge",),
    ("latm.use",),
    ("latm.maker",),
    ("latm.batch",),
    ("latm.facade",),
    ("latm.eval", "latm.interop", "latm.testing", "latm.ui"),
    ("latm.cli",),
    ("latm",),  # the package itself: the public surface imports from every room
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int:
    best, rank = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank >= 0, f"{module} is in no layer: add its folder to LAYERS and docs/architecture.md"
    return rank


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """Every latm module this file imports, at module level or inside a function (annotations-only
    imports under ``if TYPE_CHECKING`` excepted); ``from pkg import name`` counts as pkg.name when
    that is a module, else as pkg."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node) for n in ast.walk(node)
    }
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = (ROOT / candidate.replace(".", "/")).with_suffix(".py").exists() or (
                    ROOT / candidate.replace(".", "/") / "__init__.py"
                ).exists()
                found.add(candidate if is_module else base)
    return {m for m in found if m == "latm" or m.startswith("latm.")}


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted((ROOT / "latm").rglob("*.py"))}


def test_no_module_of_latm_imports_upward() -> None:
    upward = [
        f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
        for module, targets in _graph().items()
        for target in sorted(targets)
        if _layer(target) > _layer(module)
    ]
    assert upward == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            # a package's __init__ importing its own modules, which import siblings through it, is not a circle
            real = [m for m in component if not any(o != m and o.startswith(m + ".") for o in component)]
            if len(real) > 1:
                circles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert circles == []


def test_the_leaves_import_nothing_of_latm_or_of_each_other() -> None:
    leaves = ("sandbox", "toolcache", "tasks")
    crossing = []
    for leaf in leaves:
        for path in sorted((ROOT / leaf).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for other in ("latm", *[x for x in leaves if x != leaf]):
                if re.search(rf"^\s*(from|import) {other}\b", text, re.M):
                    crossing.append(f"{path.relative_to(ROOT)} imports {other}")
    assert crossing == []


READERS = {"latm/settings.py", "sandbox/settings.py", "toolcache/settings.py"}
ENV_READ = re.compile(r"os\.environ(?!\.clear\(\))|os\.getenv|getenv\(|environ\.get")


def test_one_module_per_package_reads_the_environment() -> None:
    readers = {
        str(p.relative_to(ROOT))
        for package in ("latm", "sandbox", "toolcache", "tasks")
        for p in (ROOT / package).rglob("*.py")
        if ENV_READ.search(p.read_text(encoding="utf-8"))
    }
    assert readers == READERS


def test_the_public_surface_is_what_all_lists() -> None:
    public = sorted(
        name
        for name, value in vars(latm).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    )
    assert sorted(n for n in latm.__all__ if n != "__version__") == public
    assert latm.__version__


def test_the_names_users_import_keep_working() -> None:
    from latm import LATM, Dispatcher, Example, ToolMaker, ToolUser, openai_tools, run_tool_call  # noqa: F401
    from latm.testing import FakeOpenAIServer, ScriptedModel  # noqa: F401
    from sandbox import Limits, Sandbox  # noqa: F401
    from tasks import get_task  # noqa: F401
    from toolcache import ToolCache  # noqa: F401


def _exception_classes(package: str) -> list[type[BaseException]]:
    import importlib

    found: list[type[BaseException]] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        name = _module_name(path)
        if name.endswith("__main__"):
            continue
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == name:
                found.append(value)
    return found


# Exceptions of latm that are not raised to its users: ScriptExhausted is an AssertionError so that a
# test whose scripted model runs out of replies fails as a test failure.
NOT_RAISED_TO_USERS = {"ScriptExhausted"}


def test_every_exception_class_of_latm_is_in_the_tree() -> None:
    outside = [
        f"{c.__module__}.{c.__name__}"
        for c in _exception_classes("latm")
        if not issubclass(c, LATMError) and c.__name__ not in NOT_RAISED_TO_USERS
    ]
    assert outside == []


@pytest.mark.parametrize("package", ["sandbox", "toolcache", "tasks"])
def test_a_leaf_error_handed_on_is_caught_as_itself_and_as_a_latm_error(package: str) -> None:
    classes = [c for c in _exception_classes(package) if issubclass(c, LEAF_ERRORS)]
    assert classes
    for cls in classes:
        exc = cls.__new__(cls)
        Exception.__init__(exc, "a message")
        try:
            raise ours(exc)
        except LATMError as caught:
            assert isinstance(caught, cls) and isinstance(caught, RunError) and str(caught) == "a message"
