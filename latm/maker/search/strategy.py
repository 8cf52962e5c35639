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
import functools
import inspect
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from latm import replies
from latm.errors import ModelError, StepFailed
from latm.judge.cases import error_text
from latm.judge.rendering import OPTION_LINE, RenderingError, render
from latm.maker.loop import MakerBase
from latm.maker.making_record import Attempt, Session
from latm.maker.search import reader as records
from latm.models import ChatModel
from latm.models.usage import PriceTable, Usage
from sandbox import Sandbox, policy
from tasks import Example
from tasks.base import normalize_option
from toolcache import Tool, UseCase

ViewKind = Literal["records", "numbers", "words", "text"]
OPTIONS_MARK = "\nOptions:\n"

CANDIDATE_HARNESS = """
def _latm_candidate(_latm_src, _latm_args):
    _latm_ns = {"__name__": "candidate"}
    exec(_latm_src, _latm_ns)
    _latm_value = _latm_ns["f"](**_latm_args)
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


@dataclass(frozen=True)
class View:
    """How the varying part reaches the model's function: as named arguments.

    ``records`` reads the repeated forms of the whole question body (``latm/maker/records.py``) under a
    layout found on the shown questions; the others hand over the varying middle as its integers,
    its words or its text (``x``). With options, ``options`` (their texts) is added."""

    kind: ViewKind
    layout: Any = None  # the records layout (a JSON-able dict)

    def args(self, template: Template, question: str) -> dict[str, Any]:
        """The named arguments for a question; raises ValueError when it does not fit."""
        split = template.split(question)
        if split is None:
            raise ValueError("not a question of this task")
        middle, options = split
        if self.kind == "records":
            body = question.split(OPTIONS_MARK, 1)[0] if template.options else question
            args = records.read(body, options, self.layout)
        elif self.kind == "numbers":
            args = {"x": [int(n) for n in re.findall(r"-?\d+", middle)]}
        elif self.kind == "words":
            args = {"x": middle.split()}
        else:
            args = {"x": middle.strip()}
        return {**args, "options": options} if template.options else args


def _body_and_options(question: str, options: bool) -> tuple[str, list[str]]:
    if not options:
        return question, []
    body, block = question.split(OPTIONS_MARK, 1)
    return body, [text for _, text in OPTION_LINE.findall(block)]


def _named_elsewhere(runs: list[Any], loose: list[list[str]], g: int) -> set[str]:
    out = {t for clause in loose for t in clause}
    for h, run in enumerate(runs):
        if h != g:
            out.update(v for record in run for v in record)
    return out


def _slot_values(run: Any, options: list[str], forms: list[list[Any]]) -> list[list[str]]:
    slots = records.slots_of(run, set(options), forms)
    return [[record[p] for p in slots] for record in run[0]]


def layout_of(template: Template, questions: Sequence[str]) -> dict[str, Any] | None:
    """The records layout the shown questions share, or None when they share none.

    Each question's repeated forms are found alone; the layout keeps the forms every question has
    (same count, same number of varying parts), and of each the slots whose values differ between
    questions or are named elsewhere in the question (dropped: "First"/"Then"/"Finally", the same in
    every question). A form's slots are the positions that differ between its records or hold a
    value, over every shown question with records of that length (``forms``): so one whose records
    happen to agree on a part still has it. Two slots with unique, non-numeric first values become
    a dict; one slot a list; more a list of rows. The names mentioned in the last loose clause
    become ``asked``, the numbers outside the forms ``number(s)``."""
    bodies = [_body_and_options(q, template.options) for q in questions]
    raw = [records.runs_of(body, options) for body, options in bodies]
    if len({len(runs) for runs, _ in raw}) != 1 or not raw[0][0]:
        return None
    forms: list[list[list[Any]]] = []  # per form: [[record length, slot positions], ...]
    for g in range(len(raw[0][0])):
        merged: dict[int, set[int]] = {}
        for (runs, _), (_, options) in zip(raw, bodies, strict=True):
            merged.setdefault(len(runs[g][0][0]), set()).update(records.slots_of(runs[g], set(options), []))
        forms.append([[length, sorted(slots)] for length, slots in sorted(merged.items())])
    found = [  # each question's forms as records of their slots' values
        ([_slot_values(run, options, forms[g]) for g, run in enumerate(runs)], loose)
        for (runs, loose), (_, options) in zip(raw, bodies, strict=True)
    ]
    groups: list[dict[str, Any]] = []
    used: set[str] = set()
    for g in range(len(found[0][0])):
        runs_g = [runs[g] for runs, _ in found]
        widths = {len(run[0]) for run in runs_g}
        if len(widths) != 1:
            return None
        width = widths.pop()
        keep, varying = [], []
        for p in range(width):
            varies = len({tuple(r[p] for r in run) for run in runs_g}) > 1
            named = all(any(r[p] in _named_elsewhere(runs, loose, g) for r in runs[g]) for runs, loose in found)
            if varies or named:
                keep.append(p)
                varying.append(varies)
        ints = [all(re.fullmatch(r"-?\d+", r[p]) for run in runs_g for r in run) for p in keep]
        group: dict[str, Any] = {"width": width, "forms": forms[g], "keep": keep, "ints": ints}
        group.update(kind="rows", name=None)
        if any(varying):
            if len(keep) == 1:
                kind, name = "values", "values"
            elif (
                len(keep) == 2
                and not any(re.search(r"\d", r[keep[0]]) for run in runs_g for r in run)
                and all(len({r[keep[0]] for r in run}) == len(run) for run in runs_g)
            ):
                kind, name = "dict", "table"
            else:
                kind, name = "rows", "pairs" if len(keep) == 2 else "rows"
            base, n = name, 2
            while name in used:
                name, n = f"{base}{n}", n + 1
            used.add(name)
            group.update(kind=kind, name=name)
        groups.append(group)
    if not used:
        return None
    layout: dict[str, Any] = {"groups": groups, "asked": None, "numbers": None}
    mentioned = []
    for runs, loose in found:
        names = {r[p] for run, grp in zip(runs, groups, strict=True) if grp["name"] for r in run for p in grp["keep"]}
        mentioned.append([t for t in (loose[-1] if loose else []) if t in names])
    if all(len(m) == 1 for m in mentioned):
        layout["asked"] = "one"
    elif all(mentioned):
        layout["asked"] = "many"
    numbers = [[t for c in loose for t in c if re.fullmatch(records.NUMBER, t)] for _, loose in found]
    if all(len(n) == 1 for n in numbers):
        layout["numbers"] = "one"
    elif all(numbers):
        layout["numbers"] = "many"
    for q in questions:  # the layout must read every shown question back
        try:
            records.read(*_body_and_options(q, template.options), layout)
        except ValueError:
            return None
    return layout


def views_for(template: Template, questions: Sequence[str]) -> list[View]:
    """The views worth offering, most structured first."""
    parts = [template.split(q)[0] for q in questions]  # type: ignore[index]
    views: list[View] = []
    layout = layout_of(template, questions)
    if layout is not None:
        views.append(View("records", layout))
    if all(re.search(r"\d", p) for p in parts):
        views.append(View("numbers"))
    if all(len(p.split()) >= 1 for p in parts):
        views.append(View("words"))
    views.append(View("text"))
    return views


_RECORDS_TEXT = inspect.getsource(records)  # read at import: a tool is built from the code this process runs


@functools.cache
def records_source() -> str:
    """latm/maker/records.py as tool code: its top-level names prefixed, so they cannot meet the
    model's own helpers, and its docstring dropped. Built on first use (it takes a tenth of a
    second, which every ``latm`` command would otherwise pay at import)."""
    tree = ast.parse(_RECORDS_TEXT)
    tree.body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    code = ast.unparse(tree)
    for node in tree.body:
        targets = (
            [node.name]
            if isinstance(node, ast.FunctionDef)
            else [t.id for t in node.targets if isinstance(t, ast.Name)]
            if isinstance(node, ast.Assign)
            else []
        )
        for name in targets:
            code = renamed(code, name, RECORDS_PREFIX + name.lstrip("_"))
    return code


RECORDS_PREFIX = "_records_"


def parser_code(template: Template, view: View) -> str:
    """The framework's parser: ``parse_question(question)`` -> the named arguments of ``f``."""
    middle_expr = {
        "numbers": "{'x': [int(n) for n in re.findall(r'-?\\d+', middle)]}",
        "words": "{'x': middle.split()}",
        "text": "{'x': middle.strip()}",
        "records": f"{RECORDS_PREFIX}read(body, options, {view.layout!r})",
    }[view.kind]
    options = (
        f"    if {OPTIONS_MARK!r} not in question:\n        raise ValueError('not a question of this task')\n"
        f"    body, block = question.split({OPTIONS_MARK!r}, 1)\n"
        "    options = [text for _, text in re.findall(r'^\\(([A-Z])\\)\\s*(.+?)\\s*$', block, re.M)]\n"
        "    if not options:\n        raise ValueError('not a question of this task')\n"
        if template.options
        else "    body, options = question, []\n"
    )
    back = "dict(args, options=options)" if template.options else "args"
    suffix_check = f"body.endswith({template.suffix!r})" if template.suffix else "True"
    helpers = records_source() + "\n\n\n" if view.kind == "records" else "import re\n\n\n"
    return (
        helpers + "def parse_question(question):\n"
        '    """The named arguments of f for a question of this task (the framework found its form)."""\n'
        + options
        + f"    if not (body.startswith({template.prefix!r}) and {suffix_check}):\n"
        "        raise ValueError('not a question of this task')\n"
        f"    middle = body[{len(template.prefix)}:len(body) - {len(template.suffix)}]\n"
        "    if not middle.strip():\n        raise ValueError('not a question of this task')\n"
        f"    args = {middle_expr}\n"
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


def _call(args: dict[str, Any]) -> str:
    return "f(" + ", ".join(f"{name}={value!r}" for name, value in args.items()) + ")"


PROMPT_EXAMPLES = 3


def candidate_prompt(template: Template, view: View, examples: Sequence[Example]) -> str:
    """The first ``PROMPT_EXAMPLES`` examples as questions, each with the call of ``f`` the framework
    makes for it and the answer; the model states the rule in a sentence, then writes ``f``.

    Candidates are scored on every shown example, so the ones the prompt leaves out test whether a
    candidate generalises (one that copies the answers it saw fails them). A shorter prompt is also
    a cheaper sample: on the 1.5B maker, three examples in the prompt found a verified remainder
    solver in 2,946 tokens where six had spent 61,257 without one (trial on issue 11)."""
    lines: list[str] = []
    names: list[str] = []
    for ex in examples[:PROMPT_EXAMPLES]:
        args = view.args(template, ex.question)
        names = names or list(args)
        target = _target(ex, args.get("options", []))
        lines.append(f"Question: {ex.question}\nCall: {_call(args)}\nReturns: {target!r}")
    about = " (`options` lists the answer choices: return the chosen option's text)" if template.options else ""
    return (
        "Each question below is read by the framework into the call of `f` under it; the call returns the "
        "question's answer.\n\n"
        + "\n\n".join(lines)
        + "\n\nFirst state in one sentence the rule that turns the arguments into the answer. Then write "
        f"`def f({', '.join(names)}):`{about} in one ```python block that returns the answer for any question "
        "like these, using only the standard library, within a second. It may try candidate answers and check "
        "them against the arguments."
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
    raised: list[str] = field(default_factory=list)  # the exception type of each failure that raised

    @property
    def promise(self) -> tuple[int, bool]:
        """Most right first; among none right, one that failed everywhere on the same exception
        (a missing import, a misspelt name: one fix away) is worth a repair too."""
        return self.right, self.one_bug

    @property
    def one_bug(self) -> bool:
        return len(self.raised) == len(self.failures) > 0 and len(set(self.raised)) == 1


@dataclass
class SearchResult:
    template: Template | None
    view: View | None = None
    code: str | None = None  # the passing candidate (defines f)
    usage: Usage = field(default_factory=Usage)
    samples: int = 0
    spent: int = 0  # the budget's tokens: every reply's, also those replayed free from a response cache
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
        """Views in turn, most structured first, each with half of what is left of the budget (the
        last with all of it): the trials found well-shaped inputs the model's best chance. Within
        a view: fresh samples; once a candidate is partly right, repair rounds of the best one
        alternate with fresh ones (a weak model's repairs rarely beat a fresh sample,
        ``../shared/notes/small-maker-trials.md``, but sometimes do)."""
        template = discover([ex.question for ex in shown])
        result = SearchResult(template=template, usage=usage or Usage())
        if template is None:
            result.reason = "the shown questions share no template (no fixed text around one varying part)"
            return result
        views = views_for(template, [ex.question for ex in shown])
        for index, view in enumerate(views):
            start = result.spent
            left = self.token_budget - start
            share = left if index == len(views) - 1 else left / 2  # the more structured, the larger share
            prompt = candidate_prompt(template, view, shown)
            best: Candidate | None = None
            repair = False
            while result.spent - start < share and result.spent < self.token_budget:
                asked = repair_prompt(best.code, best.failures) if repair and best is not None else prompt
                candidates = self._sample(asked, result, greedy_first=result.spent == start)
                if not candidates and not repair:
                    break  # no code at all from the first prompt: this view is hopeless
                scored = self._score(candidates, template, view, shown)
                top = max(scored, key=lambda c: c.promise, default=None)
                result.log.append(
                    {
                        "view": view.kind,
                        "asked": "repair" if repair else "fresh",
                        "scores": [c.right for c in scored],
                        "tokens": result.spent,
                    }
                )
                if top is not None and top.right == len(shown):
                    result.view, result.code = view, top.code
                    return result
                if top is not None and (best is None or top.promise > best.promise):
                    best = top
                repair = not repair and best is not None and (best.right > 0 or best.one_bug)
        result.reason = f"no candidate answered every shown example ({result.samples} sampled, {result.spent} tokens)"
        return result

    def _sample(self, prompt: str, result: SearchResult, greedy_first: bool) -> list[str]:
        codes = []
        for n in range(self.samples):
            if result.spent >= self.token_budget:
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
            result.spent += done.usage.prompt_tokens + done.usage.completion_tokens  # replayed ones too
            code = _candidate_code(done.text)
            if code is not None:
                codes.append(code)
        return codes

    def _score(self, codes: list[str], template: Template, view: View, shown: Sequence[Example]) -> list[Candidate]:
        """Every candidate on every shown example, in one sandbox round."""
        if not codes:
            return []
        inputs = [view.args(template, ex.question) for ex in shown]
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
                    if r.ok:
                        got = f"returned {r.value!r}"
                    else:
                        last = error_text(r).splitlines()[-1]
                        got = f"raised {last}"
                        cand.raised.append(last.split(":")[0])
                    cand.failures.append(
                        f"- {_call(args)[:400]} {got[:200]}, expected {_target(ex, args.get('options', []))!r}"
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
        blocks = replies.require_code(reply)
    except replies.ReplyProblem:
        return None
    for block in blocks:
        code = replies.library_part(block)
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
    direct = f"def solve(question):\n    return {entry}(**parse_question(question))\n"
    call = f"ret = {entry}(**parse_question(question))\nans = ret"
    return entry, tool_code, direct, call


class SearchStrategy(MakerBase):
    """The search strategy as a way of making: the found function becomes a tool judged like any."""

    def _make_by_search(self, s: Session) -> Tool:
        """The search strategy: the framework's template and parser, the model's
        function of the varying part found by sampling, then the same judge as any tool."""
        budget = self.token_budget - s.usage.tokens
        started = time.monotonic()
        searcher = SearchMaker(
            self.model, self.sandbox, s.check, samples=self.samples, token_budget=budget, prices=self.prices
        )
        spent = Usage()
        found = searcher.search(s.shown, usage=spent)
        s.usage.merge(spent)
        attempt = Attempt(
            step="search",
            number=1,
            round=s.round,
            prompt=f"{found.samples} candidates sampled (views tried: {sorted({e['view'] for e in found.log})})",
            outcome="ok" if found.code else "no_candidate",
            feedback=found.reason or "",
            observations=found.log,
            code=found.code or "",
            duration_s=time.monotonic() - started,
        )
        self._log(s, attempt)
        if found.code is None or found.template is None or found.view is None:
            raise StepFailed("search", found.reason or "no candidate")
        entry, code, direct, call = tool_parts(s.task, found.template, found.view, found.code)
        self._checked_code(code, "The found function", s.shown)
        fn = next(f for f in replies.top_level_functions(code) if f.name == entry)
        s.code, s.entry, s.signature = code, entry, replies.signature(fn)
        judged = Attempt(step="verify", number=1, round=s.round, prompt="the framework's use cases")
        expected = [ex.answer for ex in s.valid]
        questions = [ex.question for ex in s.valid]
        try:
            s.test_outcomes, s.tests = self._judge(s, judged, [call] * len(s.valid), expected, questions, "use case")
            s.use_cases = [
                UseCase(question=ex.question, call=c, answer=ex.answer) for ex, c in zip(s.valid, s.tests, strict=True)
            ]
            solver = Attempt(step="direct", number=1, round=s.round, prompt="the framework's parser", code=direct)
            self._check_solver(s, solver, direct)
        except replies.ReplyProblem as problem:
            judged.outcome, judged.feedback = problem.kind, str(problem)
            self._log(s, judged)
            raise StepFailed("judge", f"{problem.kind}: {str(problem)[:300]}") from problem
        self._log(s, judged)
        self._log(s, solver)
        s.verify_attempts = 1
        tool = self._tool(s)
        return self.cache.put(tool) if self.cache is not None else tool
