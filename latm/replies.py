"""Getting code out of model replies, which are as untidy as real replies get.

Replies may hold no code block, several, prose around code, an unterminated block (a
truncated reply), or bare code with no fences at all. Every function here returns data
or raises ``ReplyProblem`` with a message written to be sent back to the model.
"""

import ast
import re
import textwrap
from dataclasses import dataclass

from latm.errors import ReplyProblem

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


def drop_broken_asserts(code: str, limit: int = 20) -> str:
    """Test code with assert lines that do not parse replaced by ``assert True``.

    Asserts are never run (the framework judges ``ans``), and a model's typed-in expected
    answer is where quoting breaks (``'... shouldn't ...'``). Other syntax errors stay.
    """
    lines = code.splitlines()
    for _ in range(limit):
        try:
            ast.parse("\n".join(lines))
            break
        except SyntaxError as exc:
            i = (exc.lineno or 0) - 1
            if not (0 <= i < len(lines)) or not lines[i].lstrip().startswith("assert "):
                break
            lines[i] = lines[i][: len(lines[i]) - len(lines[i].lstrip())] + "assert True  # (unparsable assert)"
    return "\n".join(lines)


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
    kept = [_source(code, n) for n in tree.body if _is_library(n)]
    return "\n\n".join(kept).strip() + "\n" if kept else code


def _is_library(node: ast.stmt) -> bool:
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


def unwrap_tests(code: str) -> str:
    """Test code with ``def test_...():`` and ``unittest.TestCase`` wrappers opened up.

    Models often put the paper's flat tests into test functions or a TestCase class and then
    call them (directly, under ``if __name__ == "__main__":`` or by ``unittest.main()``). The
    bodies are what we run, in the order of definition, with ``self.assertEqual(a, b)`` as
    ``assert a == b``; the calls and the unittest import are dropped.
    """
    tree = ast.parse(code)
    lines = code.splitlines()
    tests = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.lower().startswith("test")}
    cases = {n.name for n in tree.body if isinstance(n, ast.ClassDef) and "TestCase" in ast.unparse(n)}
    if not tests and not cases:
        return code
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in tests:
            body = [b for b in node.body if not _is_docstring(b)]
            if body:
                first = min(b.lineno for b in body) - 1
                out.append(textwrap.dedent("\n".join(lines[first : body[-1].end_lineno])))
        elif isinstance(node, ast.ClassDef) and node.name in cases:
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and method.name.startswith("test"):
                    body = [_UnitTestAsserts().visit(b) for b in method.body if not _is_docstring(b)]
                    out.extend(ast.unparse(ast.fix_missing_locations(b)) for b in body)
        elif not _calls_only(node, tests) and not (cases and _is_unittest_plumbing(node)):
            out.append(ast.get_source_segment(code, node) or ast.unparse(node))
    return "\n".join(out)


_UNITTEST_COMPARE: dict[str, type[ast.cmpop]] = {"assertEqual": ast.Eq, "assertIn": ast.In, "assertIs": ast.Is}


class _UnitTestAsserts(ast.NodeTransformer):
    """``self.assertEqual(a, b)`` -> ``assert a == b``; ``self.assertTrue(x)`` -> ``assert x``."""

    def visit_Expr(self, node: ast.Expr) -> ast.stmt:
        call = node.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and len(call.args) >= 1):
            return node
        name = call.func.attr
        if name in _UNITTEST_COMPARE and len(call.args) >= 2:
            op = _UNITTEST_COMPARE[name]()
            return ast.Assert(test=ast.Compare(left=call.args[0], ops=[op], comparators=[call.args[1]]))
        if name == "assertTrue":
            return ast.Assert(test=call.args[0])
        return node


def _is_unittest_plumbing(node: ast.stmt) -> bool:
    """``import unittest``, ``unittest.main()``, or a ``__main__`` guard around it."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return "unittest" in ast.unparse(node)
    if isinstance(node, ast.Expr):
        return "unittest.main" in ast.unparse(node)
    if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
        return all(_is_unittest_plumbing(b) for b in node.body)
    return False


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _calls_only(node: ast.stmt, names: set[str]) -> bool:
    """A call of one of ``names`` (``test_x()``), or a ``__main__`` guard holding only such calls."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return isinstance(node.value.func, ast.Name) and node.value.func.id in names
    if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
        return all(_calls_only(b, names) for b in node.body)
    return False


def pick_cases(cases: list[str], questions: list[str]) -> list[str] | None:
    """The cases for ``questions``, in order, chosen by the question text each case copies.

    Models asked for tests of the validation questions often add tests of the train
    questions too. A case is matched by its ``question = "..."`` literal (the start of the
    text, as models truncate it); None unless every question matches exactly one case.
    """
    copied = [_copied_question(c) for c in cases]
    picked = []
    for q in questions:
        target = " ".join(q.split())
        hits = [c for c, text in zip(cases, copied, strict=True) if text and target.startswith(text[:60])]
        if len(hits) != 1:
            return None
        picked.append(hits[0])
    return picked


def _copied_question(case: str) -> str | None:
    try:
        tree = ast.parse(case)
    except SyntaxError:
        return None
    for node in tree.body:
        if _copies_question(node):
            text = " ".join(node.value.value.split())  # type: ignore[attr-defined]
            return text.removesuffix("...").rstrip("'. ") if len(text) >= 20 else None
    return None


def split_cases(code: str, expected: int | None = None) -> list[str]:
    """Splits test code into cases, each ending at a top-level ``assert`` (the paper's format).

    Code after the last assert joins the last case; code with no assert is one case. When that
    does not give ``expected`` cases (models drop or forget asserts once told they are not the
    judge), a case ends with its assignment to ``ans`` and the asserts right after it instead,
    if that gives ``expected``.
    """
    by_assert = _split_at_asserts(code)
    if expected is None or len(by_assert) == expected:
        return by_assert
    for split in (_split_at_ans, _split_at_each_assert):
        cases = split(code)
        if len(cases) == expected:
            return cases
    return by_assert


ANSWER_LIKE = re.compile(r"ans(?:wer)?_?\d*")


def _assigns_ans(node: ast.stmt) -> bool:
    """An assignment to ``ans`` or a numbered ``ans1``, ``answer_2``..."""
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and ANSWER_LIKE.fullmatch(t.id) for t in node.targets
    )


def _source(code: str, node: ast.stmt) -> str:
    return ast.get_source_segment(code, node) or ast.unparse(node)


def _split_at_asserts(code: str) -> list[str]:
    """A case ends with its run of asserts; trailing code without an assert joins the last case."""
    cases: list[list[ast.stmt]] = [[]]
    for node in ast.parse(code).body:
        if cases[-1] and isinstance(cases[-1][-1], ast.Assert) and not isinstance(node, ast.Assert):
            cases.append([])
        cases[-1].append(node)
    if len(cases) > 1 and not any(isinstance(n, ast.Assert) for n in cases[-1]):
        tail = cases.pop()
        cases[-1].extend(tail)
    return ["\n".join(_source(code, n) for n in c) for c in cases]


def with_preamble(cases: list[str]) -> list[str]:
    """Each case preceded by what earlier cases set up for all: imports, definitions and data
    (assignments without calls, other than to an answer). Tests written as one function often
    import or define once at the top and use it in every case; run alone, later cases would
    fail with a NameError. (Data smuggling an answer is the mutation check's to catch.)"""
    out: list[str] = []
    shared: list[str] = []
    for case in cases:
        out.append("\n".join([*shared, case]) if shared else case)
        for node in ast.parse(case).body:
            if _is_library(node) and not _assigns_ans(node) and not _copies_question(node):
                shared.append(_source(case, node))
    return out


def _split_at_each_assert(code: str) -> list[str]:
    """Every assert ends a case: ``assert f(a) == x`` lines in a row are one test each."""
    cases: list[list[str]] = [[]]
    for node in ast.parse(code).body:
        cases[-1].append(_source(code, node))
        if isinstance(node, ast.Assert):
            cases.append([])
    if len(cases) > 1 and not cases[-1]:
        cases.pop()
    elif len(cases) > 1:
        tail = cases.pop()
        cases[-1].extend(tail)
    return ["\n".join(c) for c in cases]


def _split_at_ans(code: str) -> list[str]:
    """A case ends with its assignment(s) to ``ans`` and the asserts right after them."""
    cases: list[list[str]] = []
    after_ans = after_assert = False
    for node in ast.parse(code).body:
        is_assert = isinstance(node, ast.Assert)
        if not cases or (after_assert and not is_assert) or (after_ans and not is_assert and not _assigns_ans(node)):
            cases.append([])
            after_ans = after_assert = False
        cases[-1].append(_source(code, node))
        after_ans = after_ans or _assigns_ans(node)
        after_assert = after_ans and (after_assert or is_assert)
    return ["\n".join(c) for c in cases]


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
        head = [_source(body, n) for n in tree.body[:-1]]
        return "\n".join([*head, f"ans = {ast.unparse(value)}"])
    return body


def strip_asserts(code: str) -> str:
    """The case without its asserts (the framework, not the model's assert, is the judge) and
    without a hand-copied ``question = "..."`` (the framework provides the real text, and small
    models copy it truncated or mistyped)."""
    tree = ast.parse(code)
    kept = [_source(code, n) for n in tree.body if not isinstance(n, ast.Assert) and not _copies_question(n)]
    return "\n".join(kept)


def _copies_question(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == "question"
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


USE_CASE = re.compile(
    r"Question:\s*(?P<question>.*?)\n\s*Solution:\s*```[ \t]*(?:python|py)?[^\n]*\n(?P<code>.*?)```", re.S
)


def use_cases(text: str) -> list[tuple[str, str]]:
    """(question, solution code) pairs of a wrap reply in the paper's format."""
    return [(m.group("question").strip(), m.group("code").strip("\n")) for m in USE_CASE.finditer(text)]


def says_none(text: str) -> bool:
    """A reply declining to write an optional piece ("NONE", or no code at all)."""
    return not code_blocks(text) and ("NONE" in text or not text.strip() or "def " not in text)
