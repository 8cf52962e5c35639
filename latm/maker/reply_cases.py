"""The maker's unit tests and use cases, as read from its replies: test cases split one per question,
unittest classes unwrapped, broken asserts dropped, ``Question:``/``Solution:`` use cases parsed.
(Code in any reply is read by ``latm.replies``.)"""

import ast
import re
import textwrap

from latm.replies import assigns_ans, code_blocks, copies_question, is_library, source_of


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
        if copies_question(node):
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
    return ["\n".join(source_of(code, n) for n in c) for c in cases]


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
            if is_library(node) and not assigns_ans(node) and not copies_question(node):
                shared.append(source_of(case, node))
    return out


def _split_at_each_assert(code: str) -> list[str]:
    """Every assert ends a case: ``assert f(a) == x`` lines in a row are one test each."""
    cases: list[list[str]] = [[]]
    for node in ast.parse(code).body:
        cases[-1].append(source_of(code, node))
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
        if not cases or (after_assert and not is_assert) or (after_ans and not is_assert and not assigns_ans(node)):
            cases.append([])
            after_ans = after_assert = False
        cases[-1].append(source_of(code, node))
        after_ans = after_ans or assigns_ans(node)
        after_assert = after_ans and (after_assert or is_assert)
    return ["\n".join(c) for c in cases]


USE_CASE = re.compile(
    r"Question:\s*(?P<question>.*?)\n\s*Solution:\s*```[ \t]*(?:python|py)?[^\n]*\n(?P<code>.*?)```", re.S
)


def use_cases(text: str) -> list[tuple[str, str]]:
    """(question, solution code) pairs of a wrap reply in the paper's format."""
    return [(m.group("question").strip(), m.group("code").strip("\n")) for m in USE_CASE.finditer(text)]


def says_none(text: str) -> bool:
    """A reply declining to write an optional piece ("NONE", or no code at all)."""
    return not code_blocks(text) and ("NONE" in text or not text.strip() or "def " not in text)
