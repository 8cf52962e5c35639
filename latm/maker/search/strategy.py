"""The search strategy, for weak makers: the framework finds the task's structure, the model
writes only the function of the part that varies, and sampled candidates are verified together.

A small model cannot write ``solve(question)`` whole (it splits the instruction words too), but
it can write a function of the varying part once that part reaches it in a good shape
(the trials in ``docs/benchmarks.md``). So:

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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from latm import replies
from latm.errors import ModelError, StepFailed
from latm.judge.cases import error_text, run_direct
from latm.judge.option_blocks import reordered
from latm.judge.rendering import render_or_none
from latm.maker.loop import MakerBase
from latm.maker.making_record import Attempt, Session
from latm.maker.search.readings import MEANINGS, PROVIDED_FOR
from latm.maker.search.synthetic import SETTLED, agreement, candidate_answers, synthetic_questions
from latm.maker.search.templates import (
    CANDIDATE_HARNESS,
    Template,
    View,
    discover,
    parser_code,
    renamed,
    views_for,
)
from latm.models import ChatModel
from latm.models.usage import PriceTable, Usage
from latm.use.fallback import cot_prompt, parse_final_answer
from sandbox import Sandbox, policy
from sandbox.expressions import PROVIDED, with_provided
from tasks import TASKS, Example
from tasks.base import option_letter
from toolcache import Tool, UseCase


def _target(example: Example, options: list[str], style: str | None = "paren") -> str:
    """What f should return: the answer, or for a multiple-choice answer the option's text (where the
    answer rendering maps a text back to its letter: ``(A)`` lines; in other styles, the letter)."""
    letter = option_letter(example.answer)
    if options and style == "paren" and letter is not None:
        i = ord(letter[1].upper()) - ord("A")
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
        target = _target(ex, args.get("options", []), template.options)
        lines.append(f"Question: {ex.question}\nCall: {_call(args)}\nReturns: {target!r}")
    meanings = [MEANINGS[name] for name in names if name in MEANINGS]
    meaning = f" ({'; '.join(meanings)})" if meanings else ""
    provided = "".join(f"\n\n{PROVIDED_FOR[name]}" for name in names if name in PROVIDED_FOR)
    about = meaning + {
        None: "",
        "paren": " (`options` lists the answer choices: return the chosen option's text)",
        "bullet": " (`options` lists the answer choices: return the chosen option's text)",
    }.get(template.options, " (`options` lists the answer choices, in order)")
    return (
        "Each question below is read by the framework into the call of `f` under it; the call returns the "
        "question's answer.\n\n"
        + "\n\n".join(lines)
        + "\n\nFirst state in one sentence the rule that turns the arguments into the answer. Then write "
        f"`def f({', '.join(names)}):`{about} in one ```python block that returns the answer for any question "
        "like these, using only the standard library, within a second. It may try candidate answers and check "
        "them against the arguments." + provided
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
    alternatives: list[str] = field(default_factory=list)  # other candidates that passed every shown example


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
        on_round: Callable[[str], None] | None = None,
    ) -> None:
        """``on_round`` hears one line after each round of candidates is scored (a live view)."""
        self.on_round = on_round
        self.model = model
        self.sandbox = sandbox
        self.check = check
        self.samples = samples
        self.token_budget = token_budget
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.prices = prices
        self.hold_form_words = True  # the records view holds its forms' fixed words (a user's task)
        self.policy_note = ""  # what the policy refused in the last refused candidate
        self.policy_refusals = 0

    def search(
        self, shown: Sequence[Example], usage: Usage | None = None, skip: set[str] | None = None
    ) -> SearchResult:
        """Views in turn, most structured first, each with half of what is left of the budget (the
        last with all of it): the trials found well-shaped inputs the model's best chance. Within
        a view: fresh samples; once a candidate is partly right, repair rounds of the best one
        alternate with fresh ones (in trials a weak model's repairs rarely beat a fresh sample, but
        sometimes did)."""
        template = discover([ex.question for ex in shown])
        result = SearchResult(template=template, usage=usage or Usage())
        if template is None:
            result.reason = "the shown questions share no template (no fixed text around one varying part)"
            return result
        views = views_for(template, [ex.question for ex in shown], hold_form_words=self.hold_form_words)
        views = [v for v in views if v.kind not in (skip or set())]  # views whose function the judge refused
        for index, view in enumerate(views):
            start = result.spent
            left = self.token_budget - start
            share = left if index == len(views) - 1 else left / 2  # the more structured, the larger share
            prompt = candidate_prompt(template, view, shown)
            best: Candidate | None = None
            repair = False
            while result.spent - start < share and result.spent < self.token_budget:
                asked = repair_prompt(best.code, best.failures) if repair and best is not None else prompt
                if self.policy_note:  # a candidate the policy refused: say why, and how to do it instead
                    asked += f"\n\nA function was refused by the tool policy: {self.policy_note}."
                refused_before = self.policy_refusals
                candidates = self._sample(asked, result, greedy_first=result.spent == start)
                if not candidates and not repair and self.policy_refusals == refused_before:
                    break  # no code at all from the first prompt (none even the policy refused): hopeless
                scored = self.score(candidates, template, view, shown)
                top = max(scored, key=lambda c: c.promise, default=None)
                result.log.append(
                    {
                        "view": view.kind,
                        "asked": "repair" if repair else "fresh",
                        "scores": [c.right for c in scored],
                        "tokens": result.spent,
                    }
                )
                if self.on_round is not None:
                    best_right = max([top.right if top else 0, best.right if best else 0])
                    self.on_round(
                        f"view {view.kind}: {result.samples} sampled, {len(scored)} scored this round "
                        f"{[c.right for c in scored]}, best {best_right}/{len(shown)}; {result.spent:,} tokens "
                        f"({max(0, self.token_budget - result.spent):,} left)"
                    )
                if top is not None and top.right == len(shown):
                    result.view, result.code = view, top.code
                    result.alternatives = list(
                        dict.fromkeys(c.code for c in scored if c.right == len(shown) and c.code != top.code)
                    )
                    return result
                if top is not None and (best is None or top.promise > best.promise):
                    best = top
                repair = not repair and best is not None and (best.right > 0 or best.one_bug)
        result.reason = f"no candidate answered every shown example ({result.samples} sampled, {result.spent} tokens)"
        return result

    def second_sample(self, shown: Sequence[Example], result: SearchResult, tries: int = 2) -> str | None:
        """Another candidate for the found function, sampled afresh, that also answers every shown example
        (a second opinion for synthetic questions), or None within ``tries`` samples."""
        assert result.template is not None and result.view is not None
        prompt = candidate_prompt(result.template, result.view, shown)
        for _ in range(tries):
            codes = [c for c in self._sample(prompt, result, greedy_first=False, n=1) if c != result.code]
            passing = [c for c in self.score(codes, result.template, result.view, shown) if c.right == len(shown)]
            if passing:
                return passing[0].code
        return None

    def _sample(self, prompt: str, result: SearchResult, greedy_first: bool, n: int | None = None) -> list[str]:
        codes = []
        for k in range(self.samples if n is None else n):
            if result.spent >= self.token_budget:
                break
            temperature = 0.0 if greedy_first and k == 0 else self.temperature
            try:
                done = self.model.complete(
                    [{"role": "user", "content": prompt}], temperature=temperature, max_tokens=self.max_tokens
                )
            except ModelError:
                break
            result.samples += 1
            result.usage.record("maker", done.model, done.usage, cached=done.cached, prices=self.prices)
            result.spent += done.usage.prompt_tokens + done.usage.completion_tokens  # replayed ones too
            code, refused = _candidate_code(done.text)
            if refused:
                self.policy_note = "; ".join(dict.fromkeys(refused))[:400]
                self.policy_refusals += 1
            if code is not None:
                codes.append(code)
        return codes

    def score(self, codes: list[str], template: Template, view: View, shown: Sequence[Example]) -> list[Candidate]:
        """Every candidate on every shown example, in one sandbox round. An example with options counts
        as right only if the candidate also answers it with its options in other orders (a function
        that picks by place, "the first option", is right on a task's questions only by chance)."""
        if not codes:
            return []
        cases: list[tuple[int, Example, dict[str, Any]]] = []  # (which shown example, the question asked, f's args)
        for i, ex in enumerate(shown):
            cases.append((i, ex, view.args(template, ex.question)))
            for question, moved_answer in reordered(ex.question, ex.answer):
                try:
                    cases.append((i, Example(question=question, answer=moved_answer), view.args(template, question)))
                except ValueError:
                    continue
        calls: list[Any] = [([code, args], {}) for code in codes for _, _, args in cases]
        results = self.sandbox.call_many(CANDIDATE_HARNESS, "_latm_candidate", calls)
        out = []
        for c, code in enumerate(codes):
            cand = Candidate(code=code)
            wrong: set[int] = set()
            for (i, ex, args), r in zip(cases, results[c * len(cases) : (c + 1) * len(cases)], strict=True):
                answer = render_or_none(r.value, ex.question) if r.ok else None
                if i in wrong or (answer is not None and self.check(answer, ex.answer)):
                    continue
                wrong.add(i)
                if r.ok:
                    got = f"returned {r.value!r}"
                else:
                    last = error_text(r).splitlines()[-1]
                    got = f"raised {last}"
                    cand.raised.append(last.split(":")[0])
                expected = _target(ex, args.get("options", []), template.options)
                cand.failures.append(f"- {_call(args)[:400]} {got[:200]}, expected {expected!r}")
            cand.right = len(shown) - len(wrong)
            out.append(cand)
        return out


def _alike(s: Session, answer: str, worked_out: str) -> bool:
    """The tool's answer and the maker's worked-out one name the same thing ("Yes" and "yes"): the tool's
    form is the task's, held by the shown and kept-back examples; the maker's is only a chat reply."""
    return s.check(answer, worked_out) or s.check(answer.casefold(), worked_out.casefold())


def _candidate_code(reply: str) -> tuple[str | None, list[str]]:
    """The reply's ``f`` with what it needs (imports, helpers), if it parses and keeps the policy; and
    what the policy refused in it (told to the model with the next prompt)."""
    try:
        blocks = replies.require_code(reply)
    except replies.ReplyProblem:
        return None, []
    refused: list[str] = []
    for block in blocks:
        code = replies.library_part(block)
        try:
            names = [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)]
        except SyntaxError:
            continue
        if "f" in names:
            violations = policy.check(code)
            if not violations:
                return code, []
            refused += [str(v) for v in violations]
    return None, refused


def tool_parts(task: str, template: Template, view: View, code: str) -> tuple[str, str, str, str]:
    """(entry name, tool code, direct solver, use-case call) for a found function."""
    entry = re.sub(r"\W", "_", f"solve_{task}")[:60]
    tool_code = renamed(code, "f", entry) + "\n\n" + parser_code(template, view)
    direct = f"def solve(question):\n    return {entry}(**parse_question(question))\n"
    call = f"ret = {entry}(**parse_question(question))\nans = ret"
    return entry, tool_code, direct, call


class SearchStrategy(MakerBase):
    """The search strategy as a way of making: the found function becomes a tool judged like any."""

    def _synthetic_evidence(self, s: Session, found: SearchResult, searcher: SearchMaker) -> None:
        """The search's tool: its synthetic questions answered by the found function's tool and by
        another candidate that also passed every shown example (one the search found, else a fresh
        sample)."""
        assert found.template is not None and found.view is not None and found.code is not None
        found.usage = Usage()  # what the search spent is the session's already; a second sample adds to it
        evaluator = with_provided(f"def f(tokens):\n    return {PROVIDED}(tokens)\n")
        if found.view.kind == "expression" and all(  # the answers are the expressions' values: an exact opinion
            c.right == len(s.shown) for c in searcher.score([evaluator], found.template, found.view, s.shown)
        ):
            other: str | None = evaluator
        else:
            other = found.alternatives[0] if found.alternatives else searcher.second_sample(s.shown, found)
        s.usage.merge(found.usage)
        self._check_synthetic(s, found.template, found.view, other)

    def _before_admission(self, s: Session) -> None:
        """A user's task made by the paper's protocol with a direct solver: synthetic questions of the
        form the framework reads off the shown questions, answered by the tool's solver and by a
        function of that reading sampled afresh (an independent second opinion)."""
        if s.task in TASKS or s.direct is None:
            return
        questions = [ex.question for ex in s.shown]
        template = discover(questions)
        views = [v for v in views_for(template, questions) if v.kind in ("numbers", "words")] if template else []
        if template is None or not views:
            s.notes.append("the shown questions have no form the framework reads: no synthetic questions checked it")
            return
        budget = max(0, self.token_budget - s.usage.tokens)
        searcher = SearchMaker(self.model, self.sandbox, s.check, samples=1, token_budget=budget, prices=self.prices)
        result = SearchResult(template=template, view=views[0])
        other = searcher.second_sample(s.shown, result)
        s.usage.merge(result.usage)
        self._check_synthetic(s, template, views[0], other)

    def _check_synthetic(self, s: Session, template: Template, view: View, other: str | None) -> None:
        """Synthetic questions answered by the tool's direct solver and by ``other`` (a function of
        ``view``); where they differ the maker model works the question out (``SETTLED`` at most), and a
        tool wrong on it, or refusing it where the other answers as the maker does, is refused. The agreed ones
        are shown beside the bound."""
        questions = synthetic_questions(template, view, [ex.question for ex in s.shown])
        if not questions:
            return
        if other is None:
            s.notes.append("no second candidate answered every shown example: no synthetic questions checked it")
            return
        assert s.direct is not None
        runs = run_direct(self.sandbox, s.code, s.direct, questions)
        ours = [render_or_none(r.value, q, s.rendering) if r.ok else None for r, q in zip(runs, questions, strict=True)]
        theirs = candidate_answers(self.sandbox, template, view, other, questions)
        agreed, disagreements = agreement(questions, ours, theirs)
        for question, mine, second in disagreements[:SETTLED]:
            done = self.model.complete([{"role": "user", "content": cot_prompt(question)}], temperature=0.0)
            s.usage.record("maker", done.model, done.usage, cached=done.cached, prices=self.prices)
            settled = parse_final_answer(done.text)
            if settled is not None and (  # the maker's worked answer decides which, not how it is written
                not _alike(s, mine, settled) if mine is not None else _alike(s, second or "", settled)
            ):
                raise replies.ReplyProblem(
                    "synthetic",
                    f"on a question made from the task's form ({question[:120]!r}) the tool answered "
                    f"{mine!r}, another candidate {second!r}, and the maker worked out {settled!r}",
                )
        s.evidence = s.evidence.model_copy(update={"synthetic_agreed": agreed})

    def _make_by_search(self, s: Session, limit: int | None = None) -> Tool:
        """The search strategy: the framework's template and parser, the model's function of the
        varying part found by sampling, then the same judge as any tool; within ``limit`` tokens of the
        whole making (the budget by default). A function the judge refuses as not strict sends the search
        on to the next view (a view that drops what the near-variants change cannot give a strict tool)."""
        budget = min(self.token_budget, limit or self.token_budget) - s.usage.tokens
        started = time.monotonic()
        searcher = SearchMaker(
            self.model,
            self.sandbox,
            s.check,
            samples=self.samples,
            token_budget=budget,
            prices=self.prices,
            on_round=lambda line: self._progress(s, "search", line, started),
        )
        searcher.hold_form_words = s.task not in TASKS
        refused: dict[str, str] = {}  # view -> why the judge refused its function
        while True:
            spent = Usage()
            found = searcher.search(s.shown, usage=spent, skip=set(refused))
            s.usage.merge(spent)
            searcher.token_budget -= found.spent
            attempt = Attempt(
                step="search",
                number=len(refused) + 1,
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
                before = "; ".join(f"the {view} view's function: {why}" for view, why in refused.items())
                raise StepFailed(
                    "search", (found.reason or "no candidate") + (f" (judge refused {before})" if before else "")
                )
            judged = s.fresh()
            try:
                return self._judge_found(judged, found, searcher)
            except StepFailed as exc:
                # only a reading too loose for the task (near-variants answered) is the view's fault; a rule
                # found wrong (held out, settled, refused before) is the function's in any view
                problem = exc.__cause__
                if not (isinstance(problem, replies.ReplyProblem) and problem.kind == "not_strict"):
                    raise
                if searcher.token_budget <= 0:
                    raise
                refused[found.view.kind] = str(exc)[:200]

    def _judge_found(self, s: Session, found: SearchResult, searcher: SearchMaker) -> Tool:
        """The found function made into a tool and judged like any other; StepFailed when refused."""
        assert found.code is not None and found.template is not None and found.view is not None
        entry, code, direct, call = tool_parts(s.task, found.template, found.view, found.code)
        judged = Attempt(step="verify", number=1, round=s.round, prompt="the framework's use cases")
        expected = [ex.answer for ex in s.valid]
        questions = [ex.question for ex in s.valid]
        try:
            self._checked_code(code, "The found function", s)
            fn = next(f for f in replies.top_level_functions(code) if f.name == entry)
            s.code, s.entry, s.signature = code, entry, replies.signature(fn)
            s.test_outcomes, s.tests = self._judge(s, judged, [call] * len(s.valid), expected, questions, "use case")
            s.use_cases = [
                UseCase(question=ex.question, call=c, answer=ex.answer) for ex, c in zip(s.valid, s.tests, strict=True)
            ]
            solver = Attempt(step="direct", number=1, round=s.round, prompt="the framework's parser", code=direct)
            self._check_solver(s, solver, direct)
            if s.task not in TASKS:
                self._synthetic_evidence(s, found, searcher)
        except replies.ReplyProblem as problem:
            judged.outcome, judged.feedback = problem.kind, str(problem)
            self._log(s, judged)
            raise StepFailed("judge", f"{problem.kind}: {str(problem)[:300]}") from problem
        self._log(s, judged)
        self._log(s, solver)
        s.verify_attempts = 1
        return self._admit(s)
