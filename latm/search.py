"""The search strategy, for weak makers: the framework finds the task's structure, the model
writes only the function of the part that varies, and sampled candidates are verified together.

A small model cannot write ``solve(question)`` whole (it splits the instruction words too), but
it can write a function of the varying part once that part reaches it in a good shape
(``../shared/notes/small-maker-trials.md``). So:

1. **Structure discovery** (``discover``): what every shown question shares (a fixed prefix and
   suffix, an ``Options:`` block) is the template; the rest is the input, offered in views (the
   text, its words, its integers). The framework writes the parser that matches the template and
   strips it, and that raises ValueError on a question that does not fit: the direct solver, and a
   free, exact signal for the dispatcher.
2. **Sample and verify** (``SearchMaker.search``): N candidates at temperature, all run in one
   ``call_many`` round on the shown examples; the best (most right) is repaired with its exact
   failures; the first that passes them all is kept. A token budget bounds the search.
3. The candidate becomes a tool like any other, judged by the same judge: use cases the
   framework writes (so the mutations apply), the direct solver on held-out questions, strictness.
"""

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from latm import extract
from latm.answers import OPTION_LINE, RenderingError, render
from latm.errors import ModelError
from latm.harness import error_text
from latm.models import ChatModel
from latm.usage import PriceTable, Usage
from sandbox import Sandbox, policy
from tasks import Example
from tasks.base import normalize_option

View = Literal["words", "numbers", "text"]
OPTIONS_MARK = "\nOptions:\n"

CANDIDATE_HARNESS = """
def _latm_candidate(_latm_src, _latm_args):
    _latm_ns = {"__name__": "candidate"}
    exec(_latm_src, _latm_ns)
    _latm_value = _latm_ns["f"](*_latm_args)
    if isinstance(_latm_value, tuple):
        _latm_value = list(_latm_value)
    return _latm_value
"""


@dataclass(frozen=True)
class Template:
    """The fixed text around the varying part of a task's questions."""

    prefix: str
    suffix: str
    options: bool  # every question ends with an "Options:" block of lettered choices

    def split(self, question: str) -> tuple[str, list[str]] | None:
        """(the varying text, the option texts), or None when the question does not fit."""
        body, options = question, []
        if self.options:
            if OPTIONS_MARK not in question:
                return None
            body, block = question.split(OPTIONS_MARK, 1)
            options = [text for _, text in OPTION_LINE.findall(block)]
            if not options:
                return None
        if not (body.startswith(self.prefix) and body.endswith(self.suffix)):
            return None
        middle = body[len(self.prefix) : len(body) - len(self.suffix) if self.suffix else len(body)]
        return (middle, options) if middle.strip() else None


def _common_prefix(texts: Sequence[str]) -> str:
    first, last = min(texts), max(texts)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    prefix = first[:n]
    cut = max(prefix.rfind(" "), prefix.rfind("\n"))  # end at a word boundary
    return prefix[: cut + 1] if cut >= 0 and n < len(first) else prefix


def discover(questions: Sequence[str]) -> Template | None:
    """The template every question fits, or None when they share too little to be one task."""
    options = all(OPTIONS_MARK in q for q in questions)
    bodies = [q.split(OPTIONS_MARK, 1)[0] if options else q for q in questions]
    prefix = _common_prefix(bodies)
    suffix = _common_prefix([b[len(prefix) :][::-1] for b in bodies])[::-1]
    if suffix and not suffix[0].isspace():  # start the suffix at a word boundary too
        cut = min((i for i in (suffix.find(" "), suffix.find("\n")) if i >= 0), default=-1)
        suffix = suffix[cut:] if cut >= 0 else ""
    template = Template(prefix=prefix, suffix=suffix, options=options)
    if len(questions) < 2 or any(template.split(q) is None for q in questions):
        return None
    return template


def view_of(text: str, view: View) -> Any:
    if view == "words":
        return text.split()
    if view == "numbers":
        return [int(n) for n in re.findall(r"-?\d+", text)]
    return text.strip()


def views_for(template: Template, questions: Sequence[str]) -> list[View]:
    """The views worth offering, most structured first."""
    parts = [template.split(q)[0] for q in questions]  # type: ignore[index]
    views: list[View] = []
    if all(re.search(r"\d", p) for p in parts) and sum(c.isdigit() for p in parts for c in p) > 0:
        views.append("numbers")
    if all(len(p.split()) >= 1 for p in parts):
        views.append("words")
    views.append("text")
    return views


def parser_code(template: Template, view: View) -> str:
    """The framework's parser: ``parse_question(question)`` -> the arguments of ``f``."""
    view_expr = {
        "words": "middle.split()",
        "numbers": "[int(n) for n in re.findall(r'-?\\d+', middle)]",
        "text": "middle.strip()",
    }[view]
    options = (
        f"    if {OPTIONS_MARK!r} not in question:\n        raise ValueError('not a question of this task')\n"
        f"    question, block = question.split({OPTIONS_MARK!r}, 1)\n"
        "    options = [text for _, text in re.findall(r'^\\(([A-Z])\\)\\s*(.+?)\\s*$', block, re.M)]\n"
        "    if not options:\n        raise ValueError('not a question of this task')\n"
        if template.options
        else ""
    )
    back = "(" + view_expr + (", options)" if template.options else ",)")
    suffix_check = f"question.endswith({template.suffix!r})" if template.suffix else "True"
    return (
        "import re\n\n\n"
        "def parse_question(question):\n"
        '    """The varying part of a question of this task (the framework found the template)."""\n'
        + options
        + f"    if not (question.startswith({template.prefix!r}) and {suffix_check}):\n"
        "        raise ValueError('not a question of this task')\n"
        f"    middle = question[{len(template.prefix)}:len(question) - {len(template.suffix)}]\n"
        "    if not middle.strip():\n        raise ValueError('not a question of this task')\n"
        f"    return {back}\n"
    )


def _target(example: Example, options: list[str]) -> str:
    """What f should return: the answer, or for a multiple-choice answer the option's text."""
    letter = normalize_option(example.answer)
    if options and re.fullmatch(r"\([A-Z]\)", letter):
        i = ord(letter[1]) - ord("A")
        if 0 <= i < len(options):
            return options[i]
    return example.answer


def candidate_prompt(template: Template, view: View, examples: Sequence[Example]) -> str:
    lines = []
    for ex in examples:
        middle, options = template.split(ex.question)  # type: ignore[misc]
        args = (view_of(middle, view), options) if template.options else (view_of(middle, view),)
        lines.append(f"Input: f({', '.join(repr(a) for a in args)})\nOutput: {_target(ex, options)!r}")
    signature = "f(x, options)" if template.options else "f(x)"
    about = " (`options` lists the answer choices; return the chosen option's text)" if template.options else ""
    return (
        "Each input below comes from a question of one task; the output is its answer.\n\n"
        + "\n\n".join(lines)
        + f"\n\nFirst state in one sentence the rule that turns an input into its output. Then write "
        f"`def {signature}:`{about} in one ```python block that returns the output for any input like these, "
        "using only the standard library. It may check candidate answers against the input."
    )


def repair_prompt(code: str, failures: list[str]) -> str:
    return (
        f"This function is wrong on some inputs:\n```python\n{code}\n```\n"
        + "\n".join(failures[:6])
        + "\nState in one sentence what the expected outputs have in common that the function misses, then "
        "reply with the corrected `def f` in one ```python block."
    )


@dataclass
class Candidate:
    code: str
    right: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class SearchResult:
    template: Template | None
    view: View | None = None
    code: str | None = None  # the passing candidate (defines f)
    usage: Usage = field(default_factory=Usage)
    samples: int = 0
    reason: str | None = None
    log: list[dict[str, Any]] = field(default_factory=list)


class SearchMaker:
    """Samples and verifies candidates for the function of a task's varying part."""

    def __init__(
        self,
        model: ChatModel,
        sandbox: Sandbox,
        check: Any,
        *,
        samples: int = 4,
        token_budget: int = 60_000,
        temperature: float = 0.8,
        max_tokens: int | None = 900,
        prices: PriceTable | None = None,
    ) -> None:
        self.model = model
        self.sandbox = sandbox
        self.check = check
        self.samples = samples
        self.token_budget = token_budget
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.prices = prices

    def search(self, shown: Sequence[Example], usage: Usage | None = None) -> SearchResult:
        template = discover([ex.question for ex in shown])
        result = SearchResult(template=template, usage=usage or Usage())
        if template is None:
            result.reason = "the shown questions share no template (no fixed text around one varying part)"
            return result
        for view in views_for(template, [ex.question for ex in shown]):
            prompt = candidate_prompt(template, view, shown)
            best: Candidate | None = None
            while result.usage.tokens < self.token_budget:
                asked = prompt if best is None else repair_prompt(best.code, best.failures)
                candidates = self._sample(asked, result, greedy_first=best is None)
                if not candidates:
                    break
                scored = self._score(candidates, template, view, shown)
                top = max(scored, key=lambda c: c.right)
                result.log.append({"view": view, "scores": [c.right for c in scored], "tokens": result.usage.tokens})
                if top.right == len(shown):
                    result.view, result.code = view, top.code
                    return result
                if best is not None and top.right <= best.right:
                    break  # repairs stopped helping: try the next view
                best = top
        result.reason = (
            f"no candidate answered every shown example ({result.samples} sampled, {result.usage.tokens} tokens)"
        )
        return result

    def _sample(self, prompt: str, result: SearchResult, greedy_first: bool) -> list[str]:
        codes = []
        for n in range(self.samples):
            if result.usage.tokens >= self.token_budget:
                break
            temperature = 0.0 if greedy_first and n == 0 else self.temperature
            try:
                done = self.model.complete(
                    [{"role": "user", "content": prompt}], temperature=temperature, max_tokens=self.max_tokens
                )
            except ModelError:
                break
            result.samples += 1
            result.usage.record("maker", done.model, done.usage, cached=done.cached, prices=self.prices)
            code = _candidate_code(done.text)
            if code is not None:
                codes.append(code)
        return codes

    def _score(self, codes: list[str], template: Template, view: View, shown: Sequence[Example]) -> list[Candidate]:
        """Every candidate on every shown example, in one sandbox round."""
        inputs = []
        for ex in shown:
            middle, options = template.split(ex.question)  # type: ignore[misc]
            inputs.append([view_of(middle, view), options] if template.options else [view_of(middle, view)])
        calls: list[Any] = [([code, args], {}) for code in codes for args in inputs]
        results = self.sandbox.call_many(CANDIDATE_HARNESS, "_latm_candidate", calls)
        out = []
        for i, code in enumerate(codes):
            cand = Candidate(code=code)
            for ex, args, r in zip(shown, inputs, results[i * len(shown) : (i + 1) * len(shown)], strict=True):
                answer = _answer(r.value, ex.question) if r.ok else None
                if answer is not None and self.check(answer, ex.answer):
                    cand.right += 1
                else:
                    got = f"raised {error_text(r).splitlines()[-1]}" if not r.ok else f"returned {r.value!r}"
                    cand.failures.append(
                        f"- f({', '.join(repr(a) for a in args)[:300]}) {got[:200]}, expected "
                        f"{_target(ex, args[1] if template.options else [])!r}"
                    )
            out.append(cand)
        return out


def _answer(value: Any, question: str) -> str | None:
    try:
        return render(value, question)
    except RenderingError:
        return None


def _candidate_code(reply: str) -> str | None:
    """The reply's ``f`` with what it needs (imports, helpers), if it parses and keeps the policy."""
    try:
        blocks = extract.require_code(reply)
    except extract.ReplyProblem:
        return None
    for block in blocks:
        code = extract.library_part(block)
        try:
            names = [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)]
        except SyntaxError:
            continue
        if "f" in names and not policy.check(code):
            return code
    return None


def renamed(code: str, old: str, new: str) -> str:
    """``code`` with the function ``old`` (and every reference to it) renamed ``new``."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == old:
            node.name = new
        elif isinstance(node, ast.Name) and node.id == old:
            node.id = new
    return ast.unparse(tree) + "\n"


def tool_parts(task: str, template: Template, view: View, code: str) -> tuple[str, str, str, str]:
    """(entry name, tool code, direct solver, use-case call) for a found function."""
    entry = re.sub(r"\W", "_", f"solve_{task}")[:60]
    tool_code = renamed(code, "f", entry) + "\n\n" + parser_code(template, view)
    direct = f"def solve(question):\n    return {entry}(*parse_question(question))\n"
    call = f"ret = {entry}(*parse_question(question))\nans = ret"
    return entry, tool_code, direct, call
