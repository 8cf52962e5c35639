"""The maker's step loop, shared by every strategy: asking the model, feeding problems back,
logging attempts, and the judge's checks of functions, use cases and direct solvers."""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal

from latm import replies
from latm.errors import ModelError, StepFailed, UserError
from latm.judge import (
    FAILURE_WORDS,
    HELD_OUT,
    HELD_OUT_DIRECT,
    CaseOutcome,
    HeldOutSet,
    captured,
    carried_literals,
    direct_survives_mutation,
    held_out_set,
    judge,
    judge_direct_held_out,
    judge_through_user,
    near_misses,
    strictness_probes,
    vacuous_cases,
)
from latm.judge.cases import CaseRun, run_cases, run_direct
from latm.judge.option_blocks import reordered
from latm.judge.rendering import infer_rendering
from latm.maker import prompts
from latm.maker.making_record import Attempt, Session, tool_record
from latm.models import ChatModel
from latm.models.usage import PriceTable
from latm.tracing import record_tokens, span
from sandbox import Sandbox, policy
from tasks import TASKS, Example
from toolcache import (
    Rendering,
    Tool,
    ToolCache,
)
from toolcache.digest import code_digest

Progress = Callable[[Attempt], None]
Strategy = Literal["auto", "latm", "search"]


class MakerBase:
    """What every making strategy shares: the model, the sandbox, the cache and the judge."""

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
        held_out_direct: int = HELD_OUT_DIRECT,
    ) -> None:
        """``user_model`` judges a tool without a direct solver on held-out questions, as the
        tool user will use it; ``held_out`` is how many fresh instances judge a built-in task's
        tool that way (they cost user tokens), ``held_out_direct`` how many judge its direct solver
        (free). The user's kept-back examples, passed to ``make``, judge any other task's tool."""
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
        self.held_out_direct = held_out_direct
        # Digests of functions and solvers seen answering unseen questions wrongly in this making:
        # a verdict is final for the code it judged, whatever a later draw of questions would say.
        self._refused: set[str] = set()

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._own_sandbox = self._sandbox = Sandbox.open()
        return self._sandbox

    def close(self) -> None:
        if self._own_sandbox is not None:
            self._own_sandbox.close()
            self._own_sandbox = self._sandbox = None

    # -- conversation ----------------------------------------------------------------------------

    def _ask(self, s: Session, step: str, number: int, prompt: str) -> Attempt:
        s.messages.append({"role": "user", "content": prompt})
        t0 = time.monotonic()
        try:
            with span("model_call", **{"latm.role": "maker", "latm.step": step}) as current:
                done = self.model.complete(
                    s.messages, temperature=self._temperature(s, number), max_tokens=self.max_tokens
                )
                record_tokens(current, done.model, done.usage.prompt_tokens, done.usage.completion_tokens)
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

    def _temperature(self, s: Session, number: int) -> float:
        """The first try of a step in the first round is greedy; repairs and later rounds sample,
        because at temperature 0 a small model answers a repair message with the very reply it
        was told is wrong, and a new round would repeat the last one."""
        greedy = number == 1 and s.round == 1
        return self.temperature if greedy else max(self.temperature, self.retry_temperature)

    def _progress(self, s: Session, step: str, line: str, started: float) -> None:
        """A live line for ``on_attempt`` while a step runs (not an attempt of the record)."""
        if self.on_attempt:
            seconds = time.monotonic() - started
            self.on_attempt(
                Attempt(
                    step=step, number=0, round=s.round, prompt="", outcome="progress", feedback=line, duration_s=seconds
                )
            )

    def _log(self, s: Session, attempt: Attempt) -> None:
        s.attempts.append(attempt)
        if self.on_attempt:
            self.on_attempt(attempt)

    def _loop(self, s: Session, step: str, first_prompt: str, handle: Callable[[Attempt], None]) -> None:
        """Asks, lets ``handle`` judge the reply, and feeds its ReplyProblem back until it passes.

        Only the latest failed exchange of a step stays in the conversation: the step's prompt,
        the last reply and its repair message; once the step passes, only its prompt and the
        good reply. Keeping every failed reply costs tokens on each retry and overflows a small
        model's context (8k tokens after four cut-off replies).
        """
        with span("step", **{"latm.step": step, "latm.task": s.task}):
            self._loop_in_span(s, step, first_prompt, handle)

    def _loop_in_span(self, s: Session, step: str, first_prompt: str, handle: Callable[[Attempt], None]) -> None:
        prompt = first_prompt
        step_start = len(s.messages)
        for number in range(1, self.max_attempts + 1):
            if number >= 3:
                del s.messages[step_start + 1 : step_start + 3]  # the older failed reply and its repair
            asked = time.monotonic()
            attempt = self._ask(s, step, number, prompt)
            try:
                handle(attempt)
            except replies.ReplyProblem as problem:
                attempt.outcome, attempt.feedback = problem.kind, str(problem)
                attempt.duration_s = time.monotonic() - asked  # the model's reply and the checks of it
                self._log(s, attempt)
                prompt = str(problem)
                continue
            attempt.duration_s = time.monotonic() - asked
            self._log(s, attempt)
            del s.messages[step_start + 1 : -1]  # the step passed: its prompt and the good reply go on
            return
        raise StepFailed(step, s.attempts[-1].outcome + ": " + s.attempts[-1].feedback[:300])

    def _before_admission(self, s: Session) -> None:
        """What a strategy checks once a tool has passed every step, before it is stored (a
        ``ReplyProblem`` or ``StepFailed`` refuses it)."""

    def _judged_unseen(self, s: Session) -> bool:
        """Whether the tool will be judged on questions its maker never saw."""
        return bool(s.kept_back) or (s.task in TASKS and max(self.held_out, self.held_out_direct) > 0)

    def _carried(self, code: str, what: str, s: Session) -> None:
        """Literals of the shown examples in tool code: a refusal where nothing unseen will judge the
        tool (a table of the shown answers would pass), else a note: answer-like constants (day
        names, Yes/No, option words) are honest, and a lookup table fails the unseen questions."""
        carried = carried_literals(code, s.shown)
        if not carried:
            return
        if not self._judged_unseen(s):
            raise replies.ReplyProblem("carried_answers", prompts.carried(what, carried))
        listed = "; ".join(carried)[:300]
        s.carried.append(f"{what}: {listed}")
        s.notes.append(f"{what} holds literals of the shown examples ({listed}); judged on unseen questions instead")

    def _checked_code(self, code: str, what: str, s: Session | None = None) -> None:
        """Syntax and policy; with the session, also the literals of its shown examples (tool code)."""
        problem = replies.syntax_problem(code)
        if problem:
            raise problem
        violations = policy.check(code)
        if violations:
            listed = "\n".join(f"- {v}" for v in violations)
            raise replies.ReplyProblem(
                "policy",
                prompts.repair(f"{what} breaks the tool policy (tools are pure computation):\n{listed}"),
            )
        if s is not None:
            self._carried(code, what, s)

    def _judge(
        self, s: Session, a: Attempt, cases: list[str], expected: list[str], questions: list[str], what: str
    ) -> tuple[list[CaseOutcome], list[str]]:
        """Runs cases (as code that sets ``ans``), learns what the rendering leaves open, judges
        every answer with it, then the mutations; raises the precise repair message on failure.
        Returns the outcomes and the runnable cases."""
        typed = [(i + 1, src) for i, c in enumerate(cases) if (src := replies.typed_in_answer(c))]
        if typed:
            raise replies.ReplyProblem("typed_in_answer", prompts.typed_in(s.entry, what, typed))
        runnable = [replies.answer_code(c) for c in cases]
        runs = run_cases(self.sandbox, s.code, runnable, questions, s.entry)
        rendering = _learned(runs, questions, expected, s)
        outcomes = judge(runs, expected, questions, s.check, rendering, s.entry)
        a.observations = [o.model_dump() for o in outcomes]
        failing = [i for i, o in enumerate(outcomes) if not o.passed]
        if failing:
            lines = [f"- {what} {i + 1}: {outcomes[i].describe(expected[i])}" for i in failing]
            kind = "timeout" if all(outcomes[i].timed_out for i in failing) else "wrong_answers"
            raise replies.ReplyProblem(kind, prompts.wrong_answers(lines))
        empty = vacuous_cases(self.sandbox, s.code, runnable, expected, questions, s.check, rendering, runs)
        if empty:
            raise replies.ReplyProblem("vacuous", prompts.vacuous(s.entry, [i + 1 for i in empty]))
        s.rendering = rendering
        return outcomes, runnable

    def _check_solver(self, s: Session, a: Attempt, code: str) -> None:
        """A direct solver, the model's or the framework's, judged: on the shown examples, the
        mutations, literals, strictness and held-out questions; raises the repair message."""
        questions = [ex.question for ex in s.shown]
        expected = [ex.answer for ex in s.shown]
        self._checked_code(code, "The solver")
        if not any(f.name == "solve" for f in replies.top_level_functions(code)):
            raise replies.ReplyProblem("no_function", prompts.repair("Define `solve(question)`.", "the solver"))
        runs = run_direct(self.sandbox, s.code, code, questions)
        rendering = _learned(runs, questions, expected, s)
        outcomes = judge(runs, expected, questions, s.check, rendering)
        a.observations = [o.model_dump() for o in outcomes]
        failing = [i for i, o in enumerate(outcomes) if not o.passed]
        if failing:
            lines = [f"- question {i + 1}: {outcomes[i].describe(expected[i])}" for i in failing]
            raise replies.ReplyProblem(
                "wrong_answers",
                prompts.repair("`solve` did not reproduce these answers:\n" + "\n".join(lines), "`solve`"),
            )
        if direct_survives_mutation(self.sandbox, s.code, code, questions, expected, s.check, rendering, s.entry):
            raise replies.ReplyProblem(
                "vacuous",
                prompts.repair(
                    f"`solve` returns answers even when `{s.entry}` is broken: it must parse the question "
                    f"and call `{s.entry}`, not look answers up or solve them by itself.",
                    "`solve`",
                ),
            )
        self._carried(code, "The solver", s)
        moved = [m for ex in s.shown for m in reordered(ex.question, ex.answer)]
        if moved:  # the shown questions with their options in other orders: chosen by text, not place
            moved_runs = run_direct(self.sandbox, s.code, code, [q for q, _ in moved])
            moved_out = judge(moved_runs, [a for _, a in moved], [q for q, _ in moved], s.check, rendering)
            wrong = [(q, a, o) for (q, a), o in zip(moved, moved_out, strict=True) if not o.passed]
            if wrong:
                raise replies.ReplyProblem("wrong_answers", prompts.reordered(wrong))
        probes = strictness_probes(s.task, self.cache)
        if s.task not in TASKS:  # a user's task is its shown questions' form: a changed fixed word is another
            probes += near_misses(
                s.task, [ex.question for ex in s.shown], also=[ex.question for ex in s.kept_back or []]
            )
        caught = captured(self.sandbox, s.code, code, probes, rendering)
        if caught:
            raise replies.ReplyProblem("not_strict", prompts.not_strict(caught))
        self._direct_held_out(s, a, code, rendering)
        s.direct, s.rendering = code, rendering

    # -- held-out judging ----------------------------------------------------------------------

    def _held_out_set(self, s: Session, n: int) -> HeldOutSet:
        """The held-out questions; for a built-in task, the ones refused code failed on before come first."""
        held = held_out_set(s.task, s.kept_back, [ex.question for ex in s.shown], n)
        hard = self.cache.hard_questions(s.task) if self.cache is not None and held.source == "generated" else []
        shown = {ex.question for ex in s.shown}
        hard = [(q, a) for q, a in hard if q not in shown][: max(0, len(held.examples) // 3)]
        if not hard:
            return held
        kinds = {**held.kinds, "generated": held.kinds.get("generated", 0) - len(hard), "remembered": len(hard)}
        examples = [Example(question=q, answer=a) for q, a in hard] + held.examples[len(hard) :]
        return HeldOutSet(examples, held.source, held.seed, kinds)

    def _remember_refused(
        self, s: Session, codes: list[str], why: str, failed: list[tuple[str, str]] | None = None
    ) -> None:
        digests = [code_digest(c) for c in codes if c]
        self._refused.update(digests)
        if self.cache is not None:
            self.cache.refuse(s.task, digests, why, failed or [])

    def _refuse_judged_before(self, s: Session, step: str, *codes: str) -> None:
        """A function (or a solver) seen answering unseen questions wrongly is not judged again."""
        known = self._refused | (set(self.cache.refusals(s.task)) if self.cache is not None else set())
        if any(code_digest(c) in known for c in codes if c):
            raise StepFailed(
                step,
                "this function answered unseen questions wrongly before (in this making or an earlier one); a "
                "verdict is final for the code it judged, so a new draw of questions cannot admit it",
            )

    def _direct_held_out(self, s: Session, a: Attempt, code: str, rendering: Rendering) -> None:
        """A direct solver is judged on held-out questions as it will be used: alone (and its
        function with the arguments it gave it)."""
        self._refuse_judged_before(s, "direct", s.code, code)
        held = self._held_out_set(s, self.held_out_direct)
        if not held.examples:
            return
        verdict, outcomes, evidence = judge_direct_held_out(
            self.sandbox, s.code, code, s.entry, held, s.check, rendering, s.shown, s.use_cases
        )
        a.observations.append({"held_out": verdict.model_dump(mode="json", exclude={"failures"})})
        if verdict.ok:
            s.held_out, s.evidence = verdict, evidence
            return
        wrong = [o for o in outcomes if o.failure not in (None, "rejected")]
        if wrong:
            s.wrong_unseen = verdict
            failed = [(e.question, e.answer) for e, o in zip(held.examples, outcomes, strict=True) if not o.passed]
            why = f"direct solver: {verdict.passed}/{verdict.total} held-out"
            self._remember_refused(s, [s.code, code], why, failed if held.source == "generated" else [])
        raise replies.ReplyProblem("held_out", prompts.held_out(verdict.total, _failure_kinds(outcomes)))

    def _judge_held_out(self, s: Session) -> None:
        """A tool without a direct solver: the tool user (the configured user model) writes the
        call for each held-out question, as it will in use; its tokens count as making cost."""
        s.held_out = None
        self._refuse_judged_before(s, "held_out", s.code)
        held = self._held_out_set(s, self.held_out)
        examples = held.examples
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
            if s.carried:  # literals of the shown examples were let through for unseen questions to judge
                raise StepFailed(
                    "held_out",
                    "it holds literals of the shown examples and nothing unseen judged it (no direct solver, "
                    f"no user model): {'; '.join(s.carried)[:300]}",
                )
            return  # verified on the shown examples only
        from latm.use.tool_user import ToolUser

        started = time.monotonic()
        user = ToolUser(self.user_model, self.sandbox, prices=self.prices)
        verdict, usage, evidence = judge_through_user(
            user, self._tool(s), held, s.check, judged_by=f"user model {self.user_model.name}"
        )
        s.usage.merge(usage)
        summary = f"{verdict.passed}/{verdict.total} held-out questions right ({verdict.judged_by})"
        attempt = Attempt(
            step="held_out",
            number=1,
            round=s.round,
            prompt=f"{len(examples)} {held.source} questions, answered by the tool user",
            outcome="ok" if verdict.ok else "wrong_answers",
            feedback=summary,
            duration_s=time.monotonic() - started,
        )
        self._log(s, attempt)
        if not verdict.ok:
            self._remember_refused(s, [s.code], summary)
            raise StepFailed("held_out", summary)
        s.held_out, s.evidence = verdict, evidence

    def _tool(self, s: Session) -> Tool:
        return tool_record(s, self.model.name, self.prices)

    def _admit(self, s: Session) -> Tool:
        """The judged tool, stored. The same code as a tool quarantined here is not admitted again,
        whatever this judging found (a canary's catch is also remembered as a refusal of the code for
        its task: ``latm.judge.canaries.remember_caught``); a retired one answers again (``ToolCache.put``)."""
        tool = self._tool(s)
        if self.cache is None:
            return tool
        stored = self.cache.put(tool, judged_here=True)
        if stored.status != tool.status:
            raise StepFailed("admission", f"this code is tool {stored.short_id}'s, {stored.status} in this cache")
        return stored


def _learned(runs: Sequence[CaseRun], questions: Sequence[str], expected: Sequence[str], s: Session) -> Rendering:
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
