"""Getting code out of model replies, which are as untidy as real replies get.

Replies may hold no code block, several, prose around code, an unterminated block (a
truncated reply), or bare code with no fences at all. Every function here returns data
or raises ``ReplyProblem`` with a message written to be sent back to the model.
"""

import ast
import re
from dataclasses import dataclass

from latm.errors import ReplyProblem
from sandbox.expressions import with_provided

FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
REFUSAL = re.compile(r"\b(I can(?:no|')t|I am unable|I'm unable|I won't|as an AI|sorry)\b", re.I)


@dataclass
class Block:
    code: str
    closed: bool


def code_blocks(text: str) -> list[Block]:
    """Fenced blocks (python or unlabelled) in order; an unterminated last block is kept."""
    blocks = []
    for m in FENCE.finditer(text):
        lang = m.group(1).lower()
        if lang and lang not in ("python", "py", "python3"):
            continue
        closed = text[m.end() - 3 : m.end()] == "```"
        blocks.append(Block(code=m.group(2).strip("\n"), closed=closed))
    return blocks


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def require_code(text: str) -> list[str]:
    """The reply's code blocks; raises ReplyProblem for empty, refusing, code-less or cut-off replies."""
    if not text or not text.strip():
        raise ReplyProblem("empty_reply", "Your reply was empty. Reply with the code in a ```python block.")
    blocks = code_blocks(text)
    if not blocks:
        stripped = text.strip()
        if ("def " in stripped or "ans =" in stripped) and _parses(stripped):
            return [stripped]  # bare code without fences
        if REFUSAL.search(stripped):
            raise ReplyProblem(
                "refusal",
                "This task is safe: it is plain computation over the given text. Please write the "
                "requested Python code in a ```python block.",
            )
        raise ReplyProblem("no_code", "Your reply contains no code. Reply with the code inside a ```python block.")
    if not blocks[-1].closed and not _parses(blocks[-1].code):
        raise ReplyProblem(
            "truncated",
            "Your reply was cut off before the code block ended. Reply again with the complete code "
            "in one ```python block, and keep it short (no explanations).",
        )
    return [b.code for b in blocks]


def syntax_problem(code: str) -> ReplyProblem | None:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        line = (exc.text or "").strip()
        return ReplyProblem(
            "syntax",
            f"The code has a syntax error on line {exc.lineno}: {exc.msg}"
            + (f" ({line!r})" if line else "")
            + ". Fix it and reply with the whole corrected code.",
        )
    return None


def top_level_functions(code: str) -> list[ast.FunctionDef]:
    tree = ast.parse(code)
    return [n for n in tree.body if isinstance(n, ast.FunctionDef)]


def signature(fn: ast.FunctionDef) -> str:
    return f"({ast.unparse(fn.args)})" + (f" -> {ast.unparse(fn.returns)}" if fn.returns else "")


def is_stub(fn: ast.FunctionDef) -> bool:
    """A body of only a docstring, pass, ..., or raise NotImplementedError."""
    body = list(fn.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    if not body:
        return True
    for node in body:
        if isinstance(node, ast.Pass):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node.value.value is Ellipsis:
            continue
        if isinstance(node, ast.Raise) and "NotImplementedError" in ast.unparse(node):
            continue
        return False
    return True


def split_definitions(code: str) -> tuple[str, str]:
    """Splits code into (imports and function/class definitions, the other statements)."""
    tree = ast.parse(code)
    defs: list[str] = []
    rest: list[str] = []
    for node in tree.body:
        target = defs if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom) else rest
        target.append(ast.get_source_segment(code, node) or ast.unparse(node))
    return "\n\n".join(defs), "\n".join(rest)


def library_part(code: str) -> str:
    """The reusable part of a proposed tool: imports, definitions and constants.

    Models end their tool with example usage (``print(f(...))``) that may not even parse
    (``[08:30, 10:00]``) or may crash on made-up inputs. A tool is a library: that tail is
    dropped. When the code does not parse, the definitions before the broken line are kept,
    if they parse; otherwise the code is returned as it is, for the syntax error to be reported.
    Code that calls ``evaluate_expression`` without defining it gets its definition (``sandbox.expressions``).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        head = "\n".join(code.splitlines()[: max((exc.lineno or 1) - 1, 0)])
        try:
            tree = ast.parse(head)
        except SyntaxError:
            return code
        if not any(isinstance(n, ast.FunctionDef) for n in tree.body):
            return code
        code = head
    used = _names_read_by_definitions(tree)
    kept = [source_of(code, n) for n in tree.body if is_library(n) or _assigns_one_of(n, used)]
    return with_provided("\n\n".join(kept).strip() + "\n" if kept else code)


def _names_read_by_definitions(tree: ast.Module) -> set[str]:
    """The names the module's functions and classes read: a constant they need stays with them, even one
    built by a call (``WORD = re.compile(...)``, ``DAYS = "Monday ...".split()``)."""
    return {
        n.id
        for d in tree.body
        if isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        for n in ast.walk(d)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


def _assigns_one_of(node: ast.stmt, names: set[str]) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return any(isinstance(t, ast.Name) and t.id in names for t in targets)


def is_library(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom):
        return True
    if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
        return not any(isinstance(n, ast.Call) for n in ast.walk(node.value))  # a constant table, not a demo
    return False


def merge_definitions(old: str, new: str) -> str:
    """``old`` with every top-level definition that ``new`` redefines replaced by the new one."""
    new_names = {n.name for n in ast.parse(new).body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    kept = [
        ast.get_source_segment(old, n) or ast.unparse(n)
        for n in ast.parse(old).body
        if not (isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name in new_names)
    ]
    return "\n\n".join([*kept, new]).strip() + "\n"


ANSWER_LIKE = re.compile(r"ans(?:wer)?_?\d*")


def assigns_ans(node: ast.stmt) -> bool:
    """An assignment to ``ans`` or a numbered ``ans1``, ``answer_2``..."""
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and ANSWER_LIKE.fullmatch(t.id) for t in node.targets
    )


def source_of(code: str, node: ast.stmt) -> str:
    return ast.get_source_segment(code, node) or ast.unparse(node)


def typed_in_answer(code: str) -> str | None:
    """The source of the case's final assignment to its answer (``answer_name``) when its value
    is a literal, else None.

    A literal answer (no name, no call: ``ans = "apple fig"``) does not test anything. This is
    a structural check of how the answer is made, not a search for the answer's text, which
    real cases legitimately contain inside their inputs. (Literals smuggled through a call or
    an alias are the mutation check's to catch.)
    """
    name = answer_name(code) or "ans"
    value: ast.Assign | None = None
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and _assigns(node, name):
            value = node
    if value is None:
        return None
    if any(isinstance(n, ast.Name | ast.Call | ast.Attribute | ast.Subscript) for n in ast.walk(value.value)):
        return None
    return ast.get_source_segment(code, value) or ast.unparse(value)


def _assigns(node: ast.stmt, name: str) -> bool:
    return isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)


def _assigned_names(tree: ast.Module) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def _asserted_names(tree: ast.Module, assigned: set[str]) -> list[str]:
    """Names compared for equality in top-level asserts (``assert ans1 == "..."``), in order."""
    found = []
    for node in tree.body:
        test = node.test if isinstance(node, ast.Assert) else None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            sides = [test.left, test.comparators[0]]
            found += [n.id for n in sides if isinstance(n, ast.Name) and n.id in assigned]
    return found


def _asserted_expression(code: str) -> str | None:
    """The computed side of the case's last ``assert EXPR == LITERAL`` (source), if any."""
    for node in reversed(ast.parse(code).body):
        test = node.test if isinstance(node, ast.Assert) else None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            for side in (test.left, test.comparators[0]):
                if any(isinstance(n, ast.Call | ast.Name) for n in ast.walk(side)):
                    return ast.unparse(side)
            return None
    return None


def answer_name(code: str) -> str | None:
    """The variable that holds a case's answer.

    ``ans`` when the case sets it (the paper's format); else the name its last
    ``assert NAME == EXPECTED`` checks (strong models number their variables per question:
    ``ans1``, ``ans2``); else the last assigned ``ans``-like name (``ans2``, ``answer``).
    """
    tree = ast.parse(code)
    assigned = _assigned_names(tree)
    if "ans" in assigned:
        return "ans"
    asserted = _asserted_names(tree, set(assigned))
    if asserted:
        return asserted[-1]
    like = [n for n in assigned if ANSWER_LIKE.fullmatch(n)]
    return like[-1] if like else None


def answer_code(code: str) -> str:
    """A case (a unit test, a use case, the tool user's call) as code that sets ``ans``.

    The asserts and a hand-copied question go (``strip_asserts``); the answer is taken from
    ``answer_name``, else from a last expression (``print(x)`` counts as ``x``).
    """
    name = answer_name(code)
    body = strip_asserts(code)
    if name is not None:
        return body if name == "ans" else f"{body}\nans = {name}"
    checked = _asserted_expression(code)
    if checked is not None:  # `assert sort_words(words) == [...]`: the call is the answer
        return f"{body}\nans = {checked}".lstrip("\n")
    tree = ast.parse(body)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        value = tree.body[-1].value
        printed = isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print"
        if printed and len(value.args) == 1 and not value.keywords:  # type: ignore[attr-defined]
            value = value.args[0]  # type: ignore[attr-defined]
        head = [source_of(body, n) for n in tree.body[:-1]]
        return "\n".join([*head, f"ans = {ast.unparse(value)}"])
    return body


def strip_asserts(code: str) -> str:
    """The case without its asserts (the framework, not the model's assert, is the judge) and
    without a hand-copied ``question = "..."`` (the framework provides the real text, and small
    models copy it truncated or mistyped)."""
    tree = ast.parse(code)
    kept = [source_of(code, n) for n in tree.body if not isinstance(n, ast.Assert) and not copies_question(n)]
    return "\n".join(kept)


def copies_question(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == "question"
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )
