"""ToolMaker: a strong model writes a tool, proves it in the sandbox, repairs it, wraps it.

One conversation, in the paper's order: propose -> verify -> wrap, then (ours, optional)
direct. Every step retries within ``max_attempts``, sending the model the exact problem:
no code, a cut-off reply, a syntax error, a stub, a policy violation, an exception, a
timeout, wrong answers, or tests that would pass with a broken tool. Only a tool that
passed everything is written to the cache, with its full trace and cost.
"""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from latm import extract, prompts
from latm.aio import run_sync
from latm.answers import infer_rendering
from latm.errors import ModelError, UserError
from latm.harness import CaseRun, run_cases, run_direct
from latm.models import ChatModel, Message
from latm.usage import PriceTable, Usage
from latm.verification import (
    FAILURE_WORDS,
    HELD_OUT,
    CaseOutcome,
    Checker,
    as_text,
    captured,
    carried_literals,
    checker_for,
    direct_survives_mutation,
    fresh_instances,
    held_out_verdict,
    judge,
    strictness_probes,
    vacuous_cases,
)
from sandbox import Sandbox, policy
from tasks import TASKS, Example
from toolcache import (
    Entry,
    HeldOut,
    Provenance,
    Rendering,
    Tool,
    ToolCache,
    UseCase,
    Verification,
    VerificationExample,
)


class Attempt(BaseModel):
    """One exchange of the making: what was asked, what came back, what we made of it."""

    step: str
    number: int
    prompt: str
    round: int = 1
    reply: str = ""
    code: str = ""
    outcome: str = "ok"  # ok, or the failure kind (no_code, wrong_answers, vacuous...)
    feedback: str = ""  # the repair message sent back
    observations: list[dict[str, Any]] = Field(default_factory=list)
    duration_s: float = 0.0


class MakeResult(BaseModel):
    task: str
    tool: Tool | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    reason: str | None = None  # why no tool was made
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.tool is not None

    def attempts_per_step(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.attempts:
            out[a.step] = out.get(a.step, 0) + 1
        return out

    def failures(self) -> list[str]:
        return [f"{a.step}: {a.outcome}" for a in self.attempts if a.outcome != "ok"]


class StepFailed(Exception):
    def __init__(self, step: str, reason: str) -> None:
        self.step = step
        super().__init__(reason)


@dataclass
class _Session:
    """The state of one making: the conversation and what has been established so far."""

    task: str
    train: list[Example]
    valid: list[Example]
    check: Checker
    messages: list[Message] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    code: str = ""
    entry: str = ""
    signature: str = ""
    tests: list[str] = field(default_factory=list)
    test_outcomes: list[CaseOutcome] = field(default_factory=list)
    use_cases: list[UseCase] = field(default_factory=list)
    direct: str | None = None
    verify_attempts: int = 0
    round: int = 1
    rendering: Rendering = field(default_factory=Rendering)
    kept_back: list[Example] | None = None  # the user's held-out examples (None: generate, if built in)
    held_out: HeldOut | None = None
    wrong_unseen: HeldOut | None = None  # a direct solver's wrong answers on unseen questions
    strategy: str = "latm"  # how this tool was made: the paper's protocol, or search

    @property
    def shown(self) -> list[Example]:
        return self.train + self.valid


Progress = Callable[[Attempt], None]
Strategy = Literal["auto", "latm", "search"]


class ToolMaker:
    """Makes verified tools with a strong model (the paper's tool maker)."""

    def __init__(
        self,
        model: ChatModel,
        sandbox: Sandbox | None = None,
        cache: ToolCache | None = None,
        max_attempts: int = 3,
        *,
        rounds: int = 1,
        strategy: Strategy = "auto",
        samples: int = 4,
        token_budget: int = 60_000,
        direct: bool = True,
        temperature: float = 0.0,
        retry_temperature: float = 0.7,
        max_tokens: int | None = 2048,
        prices: PriceTable | None = None,
        on_attempt: Progress | None = None,
        user_model: ChatModel | None = None,
        held_out: int = HELD_OUT,
    ) -> None:
        """``user_model`` judges a tool without a direct solver on held-out questions, as the
        tool user will use it; ``held_out`` is how many fresh instances judge a built-in task's
        tool (the user's kept-back examples, passed to ``make``, judge any other task's)."""
        if max_attempts < 1:
            raise UserError("max_attempts must be at least 1")
        if rounds < 1:
            raise UserError("rounds must be at least 1")
        if strategy not in ("auto", "latm", "search"):
            raise UserError(f"strategy must be auto, latm or search, not {strategy!r}")
        self.rounds = rounds
        self.strategy: Strategy = strategy
        self.samples = samples
        self.token_budget = token_budget
        self.model = model
        self._sandbox = sandbox
        self._own_sandbox: Sandbox | None = None
        self.cache = cache
        self.max_attempts = max_attempts
        self.want_direct = direct
        self.temperature = temperature
        self.retry_temperature = retry_temperature
        self.max_tokens = max_tokens
        self.prices = prices
        self.on_attempt = on_attempt
        self.user_model = user_model
        self.held_out = held_out

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._own_sandbox = self._sandbox = Sandbox.open()
        return self._sandbox

    def close(self) -> None:
        if self._own_sandbox is not None:
            self._own_sandbox.close()
            self._own_sandbox = self._sandbox = None

    # -- the public entry point ----------------------------------------------------------------

    def make(
        self,
        task: str,
        train: Sequence[Example],
        valid: Sequence[Example],
        held_out: Sequence[Example] | None = None,
    ) -> MakeResult:
        """Makes a tool for ``task`` from solved train and validation examples.

        The tool is then judged on questions the model never saw: ``held_out`` (examples the
        user kept back) or, for a built-in task, fresh generated instances. With neither, it is
        verified on the shown examples only (``Verification.trust``).
        """
        if not task:
            raise UserError("task needs a name")
        if not train or not valid:
            raise UserError("make() needs at least one train and one validation example")
        started = time.monotonic()
        kept = list(held_out) if held_out else None

        def session(**carried: Any) -> _Session:
            return _Session(
                task=task,
                train=list(train),
                valid=list(valid),
                check=checker_for(task),
                kept_back=kept,
                **carried,
            )

        s = session()
        reason = None
        tool = None
        if self.strategy != "search":
            for number in range(1, self.rounds + 1):
                if number > 1:  # a fresh conversation, sampled from the start; attempts and cost add up
                    s = session(attempts=s.attempts, usage=s.usage)
                    s.round = number
                try:
                    tool = self._make_once(s)
                    reason = None
                    break
                except StepFailed as exc:
                    reason = f"{exc.step} failed after {self.max_attempts} attempt(s): {exc}"
                except ModelError as exc:
                    reason = f"the model call failed: {exc}"
                    break
            if reason and self.rounds > 1:
                reason = f"{self.rounds} rounds failed; the last: {reason}"
        if tool is None and self.strategy in ("auto", "search"):
            # The paper's protocol did not give a tool (or was not asked for): search, in what is
            # left of one token budget.
            latm_reason = reason
            s = session(attempts=s.attempts, usage=s.usage)
            s.strategy = "search"
            try:
                tool = self._make_by_search(s)
                reason = None
            except StepFailed as exc:
                reason = f"search: {exc}"
                if latm_reason:
                    reason = f"{latm_reason}; then {reason}"
            except ModelError as exc:
                reason = f"the model call failed: {exc}"
        return MakeResult(
            task=task,
            tool=tool,
            attempts=s.attempts,
            usage=s.usage,
            reason=reason,
            duration_s=time.monotonic() - started,
        )

    def _make_by_search(self, s: _Session) -> Tool:
        """The search strategy (latm/search.py): the framework's template and parser, the model's
        function of the varying part found by sampling, then the same judge as any tool."""
        from latm.search import SearchMaker, tool_parts

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
        fn = next(f for f in extract.top_level_functions(code) if f.name == entry)
        s.code, s.entry, s.signature = code, entry, extract.signature(fn)
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
        except extract.ReplyProblem as problem:
            judged.outcome, judged.feedback = problem.kind, str(problem)
            self._log(s, judged)
            raise StepFailed("judge", f"{problem.kind}: {str(problem)[:300]}") from problem
        self._log(s, judged)
        self._log(s, solver)
        s.verify_attempts = 1
        tool = self._tool(s)
        return self.cache.put(tool) if self.cache is not None else tool

    def _make_once(self, s: _Session) -> Tool:
        self._propose(s)
        self._verify(s)
        self._wrap(s)
        if self.want_direct:
            self._direct(s)
        if s.direct is None:
            self._judge_held_out(s)
        tool = self._tool(s)
        return self.cache.put(tool) if self.cache is not None else tool

    # -- conversation ----------------------------------------------------------------------------

    def _ask(self, s: _Session, step: str, number: int, prompt: str) -> Attempt:
        s.messages.append({"role": "user", "content": prompt})
        t0 = time.monotonic()
        try:
            done = self.model.complete(s.messages, temperature=self._temperature(s, number), max_tokens=self.max_tokens)
        except ModelError as exc:
            attempt = Attempt(
                step=step, number=number, round=s.round, prompt=prompt, outcome="model_error", feedback=str(exc)
            )
            self._log(s, attempt)
            raise
        s.usage.record("maker", done.model, done.usage, cached=done.cached, prices=self.prices)
        s.messages.append({"role": "assistant", "content": done.text})
        return Attempt(
            step=step, number=number, round=s.round, prompt=prompt, reply=done.text, duration_s=time.monotonic() - t0
        )

    def _temperature(self, s: _Session, number: int) -> float:
        """The first try of a step in the first round is greedy; repairs and later rounds sample,
        because at temperature 0 a small model answers a repair message with the very reply it
        was told is wrong, and a new round would repeat the last one."""
        greedy = number == 1 and s.round == 1
        return self.temperature if greedy else max(self.temperature, self.retry_temperature)

    def _log(self, s: _Session, attempt: Attempt) -> None:
        s.attempts.append(attempt)
        if self.on_attempt:
            self.on_attempt(attempt)

    def _loop(self, s: _Session, step: str, first_prompt: str, handle: Callable[[Attempt], None]) -> None:
        """Asks, lets ``handle`` judge the reply, and feeds its ReplyProblem back until it passes.

        Only the latest failed exchange of a step stays in the conversation: the step's prompt,
        the last reply and its repair message; once the step passes, only its prompt and the
        good reply. Keeping every failed reply costs tokens on each retry and overflows a small
        model's context (8k tokens after four cut-off replies).
        """
        prompt = first_prompt
        step_start = len(s.messages)
        for number in range(1, self.max_attempts + 1):
            if number >= 3:
                del s.messages[step_start + 1 : step_start + 3]  # the older failed reply and its repair
            attempt = self._ask(s, step, number, prompt)
            try:
                handle(attempt)
            except extract.ReplyProblem as problem:
                attempt.outcome, attempt.feedback = problem.kind, str(problem)
                self._log(s, attempt)
                prompt = str(problem)
                continue
            self._log(s, attempt)
            del s.messages[step_start + 1 : -1]  # the step passed: its prompt and the good reply go on
            return
        raise StepFailed(step, s.attempts[-1].outcome + ": " + s.attempts[-1].feedback[:300])

    # -- the steps -------------------------------------------------------------------------------

    def _checked_code(self, code: str, what: str, shown: Sequence[Example] = ()) -> None:
        """Syntax and policy; with ``shown``, also no literals of the shown examples (tool code)."""
        problem = extract.syntax_problem(code)
        if problem:
            raise problem
        violations = policy.check(code)
        if violations:
            listed = "\n".join(f"- {v}" for v in violations)
            raise extract.ReplyProblem(
                "policy",
                prompts.repair(f"{what} breaks the tool policy (tools are pure computation):\n{listed}"),
            )
        carried = carried_literals(code, shown) if shown else []
        if carried:
            raise extract.ReplyProblem("carried_answers", prompts.carried(what, carried))

    def _propose(self, s: _Session) -> None:
        def handle(a: Attempt) -> None:
            blocks = extract.require_code(a.reply)
            with_defs = [extract.library_part(b) for b in blocks if "def " in b]
            if not with_defs:
                raise extract.ReplyProblem("no_function", prompts.repair("The code defines no function."))
            code = "\n\n".join(with_defs)
            a.code = code
            self._checked_code(code, "The function", s.shown)
            functions = extract.top_level_functions(code)
            if not functions:
                raise extract.ReplyProblem("no_function", prompts.repair("The code defines no top-level function."))
            main = (
                functions[-1]
                if not any(not f.name.startswith("_") for f in functions)
                else next(f for f in reversed(functions) if not f.name.startswith("_"))
            )
            if extract.is_stub(main):
                raise extract.ReplyProblem(
                    "stub", prompts.repair(f"`{main.name}` is only a stub; write its full implementation.")
                )
            run = self.sandbox.run(code)
            a.observations.append({"ok": run.ok, "error": str(run.error) if run.error else None})
            if not run.ok:
                what = "timed out" if run.timed_out else f"raised {run.error}"
                raise extract.ReplyProblem(
                    "timeout" if run.timed_out else "runtime_error",
                    prompts.repair(f"Running the code {what}:\n{run.error.traceback if run.error else ''}"),
                )
            s.code, s.entry, s.signature = code, main.name, extract.signature(main)

        self._loop(s, "propose", prompts.propose(s.train), handle)

    def _split_reply(self, s: _Session, blocks: list[str]) -> str:
        """Takes a redefinition of the tool out of a reply (a fix) and returns the rest (tests)."""
        tests = []
        for block in blocks:
            block = _test_code(block)
            defs, rest = extract.split_definitions(block)
            redefines = any(f.name == s.entry for f in extract.top_level_functions(defs)) if defs else False
            if redefines:
                new_code = extract.merge_definitions(s.code, defs)
                self._checked_code(new_code, "The function", s.shown)
                s.code = new_code
                if rest.strip():
                    tests.append(rest)
            else:
                tests.append(block)
        return "\n".join(tests)

    def _judge(
        self, s: _Session, a: Attempt, cases: list[str], expected: list[str], questions: list[str], what: str
    ) -> tuple[list[CaseOutcome], list[str]]:
        """Runs cases (as code that sets ``ans``), learns what the rendering leaves open, judges
        every answer with it, then the mutations; raises the precise repair message on failure.
        Returns the outcomes and the runnable cases."""
        typed = [(i + 1, src) for i, c in enumerate(cases) if (src := extract.typed_in_answer(c))]
        if typed:
            raise extract.ReplyProblem("typed_in_answer", prompts.typed_in(s.entry, what, typed))
        runnable = [extract.answer_code(c) for c in cases]
        runs = run_cases(self.sandbox, s.code, runnable, questions, s.entry)
        rendering = _learned(runs, questions, expected, s)
        outcomes = judge(runs, expected, questions, s.check, rendering, s.entry)
        a.observations = [o.model_dump() for o in outcomes]
        failing = [i for i, o in enumerate(outcomes) if not o.passed]
        if failing:
            lines = [f"- {what} {i + 1}: {outcomes[i].describe(expected[i])}" for i in failing]
            kind = "timeout" if all(outcomes[i].timed_out for i in failing) else "wrong_answers"
            raise extract.ReplyProblem(kind, prompts.wrong_answers(lines))
        empty = vacuous_cases(self.sandbox, s.code, runnable, expected, questions, s.check, rendering, runs)
        if empty:
            raise extract.ReplyProblem("vacuous", prompts.vacuous(s.entry, [i + 1 for i in empty]))
        s.rendering = rendering
        return outcomes, runnable

    def _verify(self, s: _Session) -> None:
        expected = [ex.answer for ex in s.valid]
        questions = [ex.question for ex in s.valid]

        def handle(a: Attempt) -> None:
            s.verify_attempts += 1
            tests = self._split_reply(s, extract.require_code(a.reply))
            a.code = tests
            if not tests.strip():
                raise extract.ReplyProblem("no_tests", prompts.case_count(len(s.valid), 0))
            self._checked_code(tests, "The test code")
            cases = extract.split_cases(tests, len(s.valid))
            if len(cases) > len(s.valid):  # tests of the train questions too: keep the ones asked for
                cases = extract.pick_cases(cases, questions) or cases
            if len(cases) != len(s.valid):
                raise extract.ReplyProblem("test_count", prompts.case_count(len(s.valid), len(cases)))
            cases = extract.with_preamble(cases)
            s.test_outcomes, s.tests = self._judge(s, a, cases, expected, questions, "test")

        self._loop(s, "verify", prompts.verify(s.valid), handle)

    def _wrap(self, s: _Session) -> None:
        expected = [ex.answer for ex in s.valid]

        def handle(a: Attempt) -> None:
            blocks = extract.require_code(a.reply)
            pairs = extract.use_cases(a.reply)
            function_blocks = [b for b in blocks if any(f.name == s.entry for f in _functions(b))]
            if function_blocks:
                candidate = extract.merge_definitions(s.code, extract.split_definitions(function_blocks[0])[0])
                self._checked_code(candidate, "The function", s.shown)
            else:
                candidate = s.code  # the verified function stands when the wrap does not repeat it
            if len(pairs) != len(s.valid):
                raise extract.ReplyProblem(
                    "use_case_count",
                    f"Expected {len(s.valid)} use cases in the format 'Question: ...' then 'Solution:' and a "
                    f"```python block, but found {len(pairs)}. Reply again in exactly that format.",
                )
            calls = [_test_code(c) for _, c in pairs]
            for c in calls:
                self._checked_code(c, "A use case")
            a.code = candidate + "\n\n# use cases\n" + "\n\n".join(calls)
            previous, s.code = s.code, candidate
            try:
                _, calls = self._judge(s, a, calls, expected, [ex.question for ex in s.valid], "use case")
            except extract.ReplyProblem:
                s.code = previous
                raise
            s.use_cases = [
                UseCase(question=ex.question, call=c, answer=ex.answer) for ex, c in zip(s.valid, calls, strict=True)
            ]

        self._loop(s, "wrap", prompts.wrap(s.valid), handle)

    def _direct(self, s: _Session) -> None:
        def handle(a: Attempt) -> None:
            if extract.says_none(a.reply):
                a.outcome = "declined"
                return
            blocks = extract.require_code(a.reply)
            code = "\n\n".join(b for b in blocks if "def solve" in b) or blocks[0]
            a.code = code
            self._check_solver(s, a, code)

        try:
            self._loop(s, "direct", prompts.direct(s.entry), handle)
        except StepFailed:
            s.direct = None  # optional: the tool is still good without a direct solver

    def _check_solver(self, s: _Session, a: Attempt, code: str) -> None:
        """A direct solver, the model's or the framework's, judged: on the shown examples, the
        mutations, literals, strictness and held-out questions; raises the repair message."""
        questions = [ex.question for ex in s.shown]
        expected = [ex.answer for ex in s.shown]
        self._checked_code(code, "The solver")
        if not any(f.name == "solve" for f in extract.top_level_functions(code)):
            raise extract.ReplyProblem("no_function", prompts.repair("Define `solve(question)`.", "the solver"))
        runs = run_direct(self.sandbox, s.code, code, questions)
        rendering = _learned(runs, questions, expected, s)
        outcomes = judge(runs, expected, questions, s.check, rendering)
        a.observations = [o.model_dump() for o in outcomes]
        failing = [i for i, o in enumerate(outcomes) if not o.passed]
        if failing:
            lines = [f"- question {i + 1}: {outcomes[i].describe(expected[i])}" for i in failing]
            raise extract.ReplyProblem(
                "wrong_answers",
                prompts.repair("`solve` did not reproduce these answers:\n" + "\n".join(lines), "`solve`"),
            )
        if direct_survives_mutation(self.sandbox, s.code, code, questions, expected, s.check, rendering):
            raise extract.ReplyProblem(
                "vacuous",
                prompts.repair(
                    f"`solve` returns answers even when `{s.entry}` is broken: it must parse the question "
                    f"and call `{s.entry}`, not look answers up or solve them by itself.",
                    "`solve`",
                ),
            )
        carried = carried_literals(code, s.shown)
        if carried:
            raise extract.ReplyProblem("carried_answers", prompts.carried("The solver", carried))
        caught = captured(self.sandbox, s.code, code, strictness_probes(s.task, self.cache), rendering)
        if caught:
            raise extract.ReplyProblem("not_strict", prompts.not_strict(caught))
        self._direct_held_out(s, a, code, rendering)
        s.direct, s.rendering = code, rendering

    # -- held-out judging ----------------------------------------------------------------------

    def _held_out_set(self, s: _Session) -> tuple[list[Example], str, int | None]:
        """Questions the maker never saw: the user's kept-back examples, else fresh instances
        of a built-in task (a new draw each time: failures are reported, so they count as seen)."""
        if s.kept_back:
            return s.kept_back, "kept back", None
        if s.task in TASKS and self.held_out > 0:
            fresh, seed = fresh_instances(s.task, self.held_out, [ex.question for ex in s.shown])
            return fresh, "generated", seed
        return [], "", None

    def _direct_held_out(self, s: _Session, a: Attempt, code: str, rendering: Rendering) -> None:
        """A direct solver is judged on held-out questions as it will be used: alone."""
        examples, source, seed = self._held_out_set(s)
        if not examples:
            return
        runs = run_direct(self.sandbox, s.code, code, [ex.question for ex in examples])
        outcomes = judge(runs, [e.answer for e in examples], [e.question for e in examples], s.check, rendering)
        verdict = held_out_verdict(outcomes, examples, source=source, judged_by="direct solver", seed=seed)
        a.observations.append({"held_out": verdict.model_dump(mode="json", exclude={"failures"})})
        if verdict.ok:
            s.held_out = verdict
            return
        wrong = [o for o in outcomes if o.failure not in (None, "rejected")]
        if wrong:
            s.wrong_unseen = verdict
        raise extract.ReplyProblem("held_out", prompts.held_out(verdict.total, _failure_kinds(outcomes)))

    def _judge_held_out(self, s: _Session) -> None:
        """A tool without a direct solver: the tool user (the configured user model) writes the
        call for each held-out question, as it will in use; its tokens count as making cost."""
        s.held_out = None
        examples, source, seed = self._held_out_set(s)
        if not examples:
            return  # verified on the shown examples only
        if self.user_model is None:
            if s.wrong_unseen is not None:
                v = s.wrong_unseen
                raise StepFailed(
                    "held_out",
                    f"its direct solver answered {v.total - v.passed} of {v.total} unseen questions wrongly, and no "
                    "user model is set to judge the function without it",
                )
            return  # verified on the shown examples only
        from latm.user import ToolUser

        draft = self._tool(s)
        user = ToolUser(self.user_model, self.sandbox, prices=self.prices)
        started = time.monotonic()

        async def answer_all() -> list[Any]:
            import asyncio

            return list(await asyncio.gather(*(user.ause(draft, ex.question, skip_direct=True) for ex in examples)))

        answers = run_sync(answer_all())
        outcomes = []
        for ex, answer in zip(examples, answers, strict=True):
            s.usage.merge(answer.usage)
            ok = answer.value is not None and s.check(answer.value, ex.answer)
            outcomes.append(CaseOutcome(passed=ok, observed=answer.value, error=answer.error))
        verdict = held_out_verdict(
            outcomes, examples, source=source, judged_by=f"user model {self.user_model.name}", seed=seed
        )
        summary = f"{verdict.passed}/{verdict.total} held-out questions right ({verdict.judged_by})"
        attempt = Attempt(
            step="held_out",
            number=1,
            round=s.round,
            prompt=f"{len(examples)} {source} questions, answered by the tool user",
            outcome="ok" if verdict.ok else "wrong_answers",
            feedback=summary,
            duration_s=time.monotonic() - started,
        )
        self._log(s, attempt)
        if not verdict.ok:
            raise StepFailed("held_out", summary)
        s.held_out = verdict

    # -- the record ------------------------------------------------------------------------------

    def _tool(self, s: _Session) -> Tool:
        examples = [
            VerificationExample(
                question=ex.question,
                expected=ex.answer,
                observed=as_text(o.observed),
                passed=o.passed,
                call=call,
            )
            for ex, o, call in zip(s.valid, s.test_outcomes, s.tests, strict=True)
        ]
        cost = s.usage.cost_usd
        model = self.model.name
        baseline = _baseline_cost(s, model, self.prices)
        return Tool(
            name=s.entry,
            task=s.task,
            description=_description(s),
            entry=Entry(name=s.entry, signature=s.signature),
            code=s.code,
            direct=s.direct,
            use_cases=s.use_cases,
            rendering=s.rendering,
            verification=Verification(
                examples=examples,
                passed=sum(e.passed for e in examples),
                total=len(examples),
                attempts=s.verify_attempts,
                held_out=s.held_out,
            ),
            provenance=Provenance(
                maker_model=model,
                prompt_version=prompts.PROMPT_VERSION,
                strategy=s.strategy,
                tokens_in=s.usage.prompt_tokens,
                tokens_out=s.usage.completion_tokens,
                cost_usd=cost,
                baseline_cost_per_question_usd=baseline,
                trace=[a.model_dump(mode="json") for a in s.attempts],
            ),
        )


def _test_code(code: str) -> str:
    """A reply's test or use-case code made runnable: unparsable asserts dropped (they are never
    run), a syntax error elsewhere raised as a repair message, test wrappers opened up."""
    code = extract.drop_broken_asserts(code)
    problem = extract.syntax_problem(code)
    if problem:
        raise problem
    return extract.unwrap_tests(code)


def _learned(runs: Sequence[CaseRun], questions: Sequence[str], expected: Sequence[str], s: _Session) -> Rendering:
    """The session's rendering, with what it leaves open learned from these (shown) runs."""
    done = [i for i, r in enumerate(runs) if r.ok]
    return infer_rendering(
        [runs[i].value for i in done], [questions[i] for i in done], [expected[i] for i in done], s.check, s.rendering
    )


def _failure_kinds(outcomes: Sequence[CaseOutcome]) -> dict[str, int]:
    """How the failed held-out questions failed, in fixed words: nothing the tool printed or
    raised reaches the model, so no unseen question can leak through a repair message."""
    kinds = Counter(FAILURE_WORDS[o.failure] for o in outcomes if o.failure is not None)
    return dict(kinds)


def _functions(code: str) -> list[Any]:
    try:
        return extract.top_level_functions(code)
    except SyntaxError:
        return []


def _description(s: _Session) -> str:
    for fn in _functions(s.code):
        if fn.name == s.entry:
            import ast

            doc = ast.get_docstring(fn)
            if doc:
                return doc.strip().splitlines()[0]
    return f"Solves {s.task.replace('_', ' ')} questions."


def _baseline_cost(s: _Session, model: str, prices: PriceTable | None) -> float | None:
    """What answering one question with the maker model costs, estimated from the examples.

    A few-shot chain-of-thought prompt (the train examples plus the question) and a reasoned
    answer of about 300 tokens; ``latm eval --baseline cot`` measures the real figure.
    """
    table = prices or PriceTable.load()
    prompt_tokens = sum(len(ex.question) + len(ex.answer) for ex in s.train + s.valid[:1]) // 4 + 60
    return table.cost(model, prompt_tokens, 300)
