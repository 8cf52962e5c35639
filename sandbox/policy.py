"""The static tool policy: what the tool maker may admit to the cache.

A tool is pure computation over its arguments, so its code needs no files, processes,
network or introspection, and its answers depend on its arguments alone: it reads no clock and
draws no randomness that a seed does not fix. ``check(code)`` compiles it with RestrictedPython (which finds
dunder attribute tricks such as ``().__class__.__bases__[0].__subclasses__()`` and
``exec``/``eval`` calls) and walks its AST for imports outside an allowlist of
pure-computation standard modules and for calls of builtins that reach outside
(``open``, ``__import__``, ``getattr``...). Each violation carries its line.

This is a filter for admission, not the security boundary: the code still runs in the
sandbox. RestrictedPython's rules that only matter when its own runtime guards are used
(private ``_names``, augmented item assignment, ``print`` rewriting) are not applied,
since generated tools use them legitimately and the code runs as plain Python.
"""

import ast
import re

from pydantic import BaseModel
from RestrictedPython import compile_restricted_exec

from sandbox.errors import PolicyViolation

ALLOWED_MODULES = frozenset(
    [
        "math",
        "itertools",
        "functools",
        "collections",
        "re",
        "datetime",
        "fractions",
        "decimal",
        "heapq",
        "bisect",
        "string",
        "statistics",
        "operator",
        "json",
        "dataclasses",
        "typing",
        "copy",
        "enum",
        "random",
        "ast",  # parse and walk (an expression evaluated from its tree); compile, exec and eval stay refused
    ]
)
FORBIDDEN_CALLS = {
    "open": "file access",
    "compile": "dynamic code",
    "exec": "dynamic code",
    "eval": "dynamic code; to evaluate an arithmetic or boolean expression, call evaluate_expression(text or "
    "tokens), which is provided (no import, no definition needed), or parse it with ast.parse and evaluate the tree",
    "__import__": "dynamic imports",
    "globals": "introspection",
    "locals": "introspection",
    "vars": "introspection",
    "getattr": "attribute access by string (reaches dunders)",
    "setattr": "attribute access by string",
    "delattr": "attribute access by string",
    "breakpoint": "the debugger",
    "input": "reading stdin",
    "exit": "ending the process",
    "quit": "ending the process",
    "help": "the interactive help",
    "hash": "its value changes with each process's hash seed",
    "id": "its value is a memory address, different in each process",
}
FORBIDDEN_NAMES = {"__builtins__", "__import__", "__loader__", "__spec__", "__file__"}
# A tool's answer depends on its arguments alone: no clock, no unseeded randomness.
CLOCK_READS = {"now", "today", "utcnow"}  # of datetime.datetime / datetime.date
SEEDED_RANDOM = "Random"  # random.Random(seed) is the only randomness a tool may use
DUNDER = re.compile(r"__(?!main__)[A-Za-z_][A-Za-z0-9_]*__")  # '__main__' is the script guard's, harmless
_RP_NAME = re.compile(r'^Line (\d+): "([^"]+)" is an invalid (variable|attribute) name')
_RP_LINE = re.compile(r"^Line (\d+): (.*)$")


class Violation(BaseModel):
    line: int | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"


def _from_restricted(errors: tuple[str, ...]) -> list[Violation]:
    found = []
    for err in errors:
        named = _RP_NAME.match(err)
        if named:
            line, name, kind = int(named.group(1)), named.group(2), named.group(3)
            if kind == "attribute" and name.startswith("__"):
                found.append(
                    Violation(line=line, rule="dunder-attribute", message=f"access to the dunder attribute {name!r}")
                )
            elif kind == "variable" and name in FORBIDDEN_NAMES:
                found.append(Violation(line=line, rule="dunder-name", message=f"use of {name!r}"))
            continue
        m = _RP_LINE.match(err)
        text = m.group(2) if m else err
        if "Exec calls" in text or "Eval calls" in text:
            continue  # reported by the AST walk, with the same wording as other calls
        if "Augmented assignment" in text:
            continue
        found.append(Violation(line=int(m.group(1)) if m else None, rule="restricted", message=text))
    return found


def _impure(tree: ast.AST) -> list[Violation]:
    """Reading the clock and randomness that no seed fixes: answers that change between calls."""
    dated = {"datetime", "date"}  # names that stand for datetime.datetime / datetime.date
    randoms = {"random"}  # names that stand for the random module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "datetime":
            dated.update(a.asname or a.name for a in node.names if a.name in ("datetime", "date"))
        elif isinstance(node, ast.ImportFrom) and node.module == "random":
            for alias in node.names:
                if alias.name != SEEDED_RANDOM:
                    found.append(
                        Violation(
                            line=node.lineno,
                            rule="impure",
                            message=f"random.{alias.name} draws unseeded randomness (use random.Random(seed))",
                        )
                    )
        elif isinstance(node, ast.Import):
            randoms.update(a.asname for a in node.names if a.name == "random" and a.asname)
            dated.update(a.asname for a in node.names if a.name == "datetime" and a.asname)
    # Aliases: `CLOCK = datetime.datetime`, `RNG = random`, a default argument `d=datetime.datetime`.
    for _ in range(3):  # aliases of aliases
        for node in ast.walk(tree):
            pairs: list[tuple[ast.expr | ast.arg, ast.expr]] = []
            if isinstance(node, ast.Assign):
                pairs = [(t, node.value) for t in node.targets]
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                pairs = [(node.target, node.value)]
            elif isinstance(node, ast.arguments):
                positional = node.posonlyargs + node.args
                pairs = list(zip(positional[len(positional) - len(node.defaults) :], node.defaults, strict=True))
                pairs += [(a, d) for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True) if d is not None]
            for target, value in pairs:
                name = target.id if isinstance(target, ast.Name) else getattr(target, "arg", None)
                source = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", None)
                if name is None or source is None:
                    continue
                if source in dated or source in ("datetime", "date"):
                    dated.add(name)
                elif source in randoms:
                    randoms.add(name)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        receiver = node.value
        last = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", None)
        if node.attr in CLOCK_READS:  # datetime's, through any alias or path (date.max.today(), type(x).now())
            found.append(
                Violation(
                    line=node.lineno,
                    rule="impure",
                    message=f"{last or '...'}.{node.attr}() reads the clock: a tool's answer must depend on its "
                    "arguments alone",
                )
            )
        elif isinstance(receiver, ast.Name) and receiver.id in randoms and node.attr != SEEDED_RANDOM:
            found.append(
                Violation(
                    line=node.lineno,
                    rule="impure",
                    message=f"random.{node.attr} draws unseeded randomness (use random.Random(seed))",
                )
            )
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "seed"
            and (not node.args or (isinstance(node.args[0], ast.Constant) and node.args[0].value is None))
        ):
            found.append(
                Violation(line=node.lineno, rule="impure", message=".seed() without a value reseeds from the system")
            )
        if (isinstance(node, ast.Name) and node.id == "methodcaller") or (
            isinstance(node, ast.Attribute) and node.attr == "methodcaller"
        ):
            found.append(Violation(line=node.lineno, rule="impure", message="methodcaller calls methods by name"))
        unseeded = not node.args and not node.keywords if isinstance(node, ast.Call) else False
        if isinstance(node, ast.Call) and not unseeded:  # Random(None), Random(seed=None)
            given = [*node.args, *(k.value for k in node.keywords)]
            unseeded = len(given) == 1 and isinstance(given[0], ast.Constant) and given[0].value is None
        if (
            isinstance(node, ast.Call)
            and unseeded
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == SEEDED_RANDOM)
                or (isinstance(node.func, ast.Name) and node.func.id == SEEDED_RANDOM)
            )
        ):
            why = "random.Random() without a seed is unseeded randomness"
            found.append(Violation(line=node.lineno, rule="impure", message=why))
    return found


def _from_ast(tree: ast.AST) -> list[Violation]:
    found = _impure(tree)
    allowed = ", ".join(sorted(ALLOWED_MODULES))
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = ["." * node.level + (node.module or "")]
        for mod in modules:
            if mod.split(".")[0] not in ALLOWED_MODULES:
                found.append(
                    Violation(
                        line=getattr(node, "lineno", None),
                        rule="import",
                        message=f"import of {mod!r} is not allowed (a tool may import only: {allowed})",
                    )
                )
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in FORBIDDEN_CALLS:
            # Any reference, not only a call written as a plain name: `f = open; f(...)`,
            # `[exec][0](...)` and `map(eval, ...)` reach the builtin just the same.
            why = FORBIDDEN_CALLS[node.id]
            found.append(Violation(line=node.lineno, rule="call", message=f"use of {node.id}() is not allowed ({why})"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and DUNDER.search(node.value):
            # attrgetter("__self__"), "{0.__class__}".format(x): dunder access spelled in a string.
            found.append(
                Violation(
                    line=node.lineno,
                    rule="dunder-string",
                    message=f"a string naming a dunder attribute ({DUNDER.search(node.value).group(0)!r})",  # type: ignore[union-attr]
                )
            )
    return found


def check(code: str) -> list[Violation]:
    """Every policy violation of ``code``, sorted by line; empty when it may be admitted."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [Violation(line=exc.lineno, rule="syntax", message=f"syntax error: {exc.msg}")]
    result = compile_restricted_exec(code)
    found = _from_restricted(tuple(result.errors)) + _from_ast(tree)
    unique = {(v.line, v.message): v for v in found}
    return sorted(unique.values(), key=lambda v: (v.line or 0, v.message))


def enforce(code: str) -> None:
    """Raises PolicyViolation listing every violation of ``code``."""
    violations = check(code)
    if violations:
        raise PolicyViolation(violations)
