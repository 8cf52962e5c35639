"""``LATM``: the facade users meet. Route, use, make on a miss, account for every token.

    latm = LATM(maker="gpt-4o", user="gpt-4o-mini")
    latm.make_tool("word_sorting", examples)
    sol = latm.solve("Sort the following words alphabetically: List: ...")

Nothing starts until it is needed (the sandbox, the cache, the model clients), and
``close()`` or a ``with`` block releases it all.
"""

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from latm._aio import run_sync
from latm.errors import ModelError, NoToolForQuestion, UserError, public_errors
from latm.judge.canaries import Canaries
from latm.judge.strictness import reprobe
from latm.maker import MakeResult, ToolMaker, prompts
from latm.maker.split import MIN_KEPT_BACK, auto_task_name, check_examples, default_k, describe_split
from latm.models import CacheMode, ChatModel, resolve_model
from latm.models.usage import PriceTable, Usage
from latm.settings import Settings
from latm.tracing import span
from latm.use.dispatcher import Dispatcher, Route, route_direct
from latm.use.exposure import call_exposed, expose
from latm.use.fallback import answer_by_fallback
from latm.use.plans import (
    CallOutcome,
    PlanError,
    PlanSolution,
    check_plan,
    parse_plan,
    parts_of,
    plan_prompt,
    run_plan,
    with_literals,
)
from latm.use.solution import Solution, check_questions, solution_of
from latm.use.tool_user import Answer, ToolUser
from sandbox import Sandbox
from tasks import TASKS, Example
from toolcache import Tool, ToolCache

OnMiss = Literal["fallback", "raise"]


@public_errors
class LATM:
    """Make tools with a strong model once; answer every later question cheaply."""

    def __init__(
        self,
        maker: str | ChatModel | None = None,
        user: str | ChatModel | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        cache: ToolCache | str | None = None,
        sandbox: Sandbox | None = None,
        response_cache: CacheMode | None = None,
        max_attempts: int = 3,
        rounds: int = 1,
        strategy: str = "auto",
        on_miss: OnMiss = "fallback",
        prices: PriceTable | None = None,
        on_attempt: Callable[[Any], None] | None = None,
        allow_shown_only: bool = False,
        source: str = "api",
        settings: Settings | None = None,
        max_error: float | None = None,
        canaries: bool = True,
        llm_canaries: bool = False,
    ) -> None:
        """``source`` names where requests come from in the cache's use records (api, cli, mcp,
        ray). ``allow_shown_only`` lets tools that could only be verified on the examples shown to
        their maker (a user's task with too few examples to keep some back) answer questions.
        ``settings``: what the arguments leave open (default: ``Settings.load()``, the LATM_*
        variables); an argument given here wins over it. ``max_error``: route only to tools whose
        error bound (95% confidence, from the labelled questions they were judged on) is at or under
        it, e.g. 0.01. ``canaries``: mix questions with known answers into each tool's direct work
        (about 1%, at least one a batch; off only to measure what they cost). ``llm_canaries``: mix
        them into each tool's LLM-mode work too (they cost user tokens; a failure sends that tool's
        share of the batch to the fallback)."""
        if on_miss not in ("fallback", "raise"):
            raise UserError("on_miss must be 'fallback' or 'raise'")
        if max_error is not None and not 0 < max_error < 1:
            raise UserError(f"max_error is a rate between 0 and 1 (0.01 for 1%), not {max_error!r}")
        self.max_error = max_error
        self._canaries: Canaries | None = None
        self.use_canaries = canaries
        self.llm_canaries = llm_canaries and canaries
        self.settings = settings or Settings.load()
        self.maker_model, self.user_model = (
            resolve_model(
                model if model is not None else self.settings.model_for(role),
                role=role,
                base_url=base_url or self.settings.base_url,
                api_key=api_key or self.settings.api_key,
                cache=response_cache or self.settings.response_cache,
                cache_dir=self.settings.response_cache_dir,
                version=prompts.PROMPT_VERSION,
            )
            for model, role in ((maker, "maker"), (user, "user"))
        )
        self._cache_arg = cache
        self._cache: ToolCache | None = cache if isinstance(cache, ToolCache) else None
        self._sandbox = sandbox
        self._own_sandbox = False
        self.max_attempts = max_attempts
        self.rounds = rounds
        self.strategy = strategy  # making: "auto" (both; which first: ToolMaker._order), "latm" or "search"
        self.on_miss = on_miss
        self.prices = prices
        self.on_attempt = on_attempt
        self.allow_shown_only = allow_shown_only
        self.source = source
        self.usage = Usage()  # everything this instance spent
        self._lock = threading.Lock()

    # -- lazily opened resources -------------------------------------------------------------------

    @property
    def cache(self) -> ToolCache:
        if self._cache is None:
            self._cache = ToolCache(self._cache_arg if isinstance(self._cache_arg, str) else None)
        return self._cache

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = self.settings.open_sandbox()
            self._own_sandbox = True
        return self._sandbox

    @property
    def tool_user(self) -> ToolUser:
        return ToolUser(self.user_model, self.sandbox, prices=self.prices)

    @property
    def canaries(self) -> Canaries | None:
        """The canaries of this instance's work (their tally and quarantines so far); None when off."""
        if self._canaries is None and self.use_canaries:
            self._canaries = Canaries(self.cache)
        return self._canaries

    @property
    def dispatcher(self) -> Dispatcher:
        return Dispatcher(
            self.user_model,
            self.cache,
            self.tool_user,
            prices=self.prices,
            allow_shown_only=self.allow_shown_only,
            max_error=self.max_error,
            canaries=self.canaries,
        )

    def close(self) -> None:
        for job in self.__dict__.pop("_ray_jobs", []):  # uses of solve_dataset jobs reach the cache
            job.merge(self)
        if self._own_sandbox and self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
        if self._cache is not None and not isinstance(self._cache_arg, ToolCache):
            self._cache.close()
            self._cache = None
            self._canaries = None

    def __enter__(self) -> "LATM":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spent(self, usage: Usage) -> None:
        with self._lock:
            self.usage.merge(usage)

    # -- making ------------------------------------------------------------------------------------

    def make_tool(
        self,
        task: str,
        examples: Sequence[Example],
        k: int | None = None,
        reuse: Literal["any", "same-maker", "never"] = "any",
    ) -> MakeResult:
        """Makes the tool for ``task`` from k train then k validation examples.

        A built-in task's tool is judged on fresh generated questions, so every example may be
        shown (k defaults to half of them, at most 3). For any other task the examples after the
        first 2k are kept back, never shown to the maker, and judge the tool; k defaults to what
        leaves ``MIN_KEPT_BACK`` of them (at most 3). With fewer kept back, the tool is verified
        on the shown examples only and answers questions only with ``allow_shown_only``.
        The task's current cached tool is reused instead: any (default), only one made by this
        maker model ("same-maker"), or never.
        """
        with span("make_tool", **{"latm.task": task, "latm.examples": len(examples)}) as current:
            result = self._make_tool(task, examples, k, reuse)
            current.set_attribute("latm.made", result.tool is not None)
            return result

    def _make_tool(
        self, task: str, examples: Sequence[Example], k: int | None, reuse: Literal["any", "same-maker", "never"]
    ) -> MakeResult:
        existing = self.cache.current(task)
        maker_name = self.maker_model.name if self.maker_model else None
        if (
            existing is not None
            and existing.status == "verified"  # a retired or quarantined tool is made again, not reused
            and (reuse == "any" or (reuse == "same-maker" and existing.provenance.maker_model == maker_name))
        ):
            return MakeResult(task=task, tool=existing)
        if self.maker_model is None:
            raise UserError(
                "making a tool needs a maker model: --maker or LATM_MAKER (in Python, LATM(maker='gpt-4o'))"
            )
        examples = list(examples)
        check_examples(task, examples)
        k = k or default_k(task, len(examples))
        split = describe_split(task, len(examples), k)  # a UserError when there are too few
        kept_back = examples[2 * k :] if task not in TASKS else []
        maker = ToolMaker(
            self.maker_model,
            self.sandbox,
            self.cache,
            self.max_attempts,
            rounds=self.rounds,
            strategy=self.strategy,  # type: ignore[arg-type]
            prices=self.prices,
            on_attempt=self.on_attempt,
            user_model=self.user_model,
        )
        result = maker.make(
            task, examples[:k], examples[k : 2 * k], kept_back if len(kept_back) >= MIN_KEPT_BACK else None
        )
        self._spent(result.usage)
        result.split = split
        if result.tool is not None:  # a solver made before this task must not capture its questions
            reprobe(self.cache, result.tool, self.sandbox)
        return result

    # -- solving -----------------------------------------------------------------------------------

    def solve(self, question: str, examples: Sequence[Example] | None = None, task: str | None = None) -> Solution:
        """Answers one question: route, use the tool; on a miss make one (with examples) or fall back."""
        if not isinstance(question, str) or not question.strip():
            raise UserError("the question must be non-empty text")
        with span("solve", **{"latm.question_chars": len(question)}):
            return self._solve(question, examples, task)

    def _solve(self, question: str, examples: Sequence[Example] | None, task: str | None) -> Solution:
        started = time.monotonic()
        route = self.dispatcher.route(question)
        if self.llm_canaries and self.canaries is not None and route.tool is not None:
            route = run_sync(self._llm_canaries(self.canaries, [question], [route], 1))[0]
        if route.tool is None and examples:
            made = self.make_tool(task or auto_task_name(examples), examples)
            if made.tool is None:
                raise UserError(f"could not make a tool from the examples: {made.reason}")
            route = Route(tool=made.tool, reason="made a new tool from the examples", usage=Usage())
        solution = run_sync(self._finish(question, route))
        if route.tool is None and self.on_miss == "raise":
            raise NoToolForQuestion(f"no cached tool serves this question ({route.reason})")
        solution.duration_s = time.monotonic() - started
        self._record([solution])
        return solution

    def solve_many(
        self,
        questions: Sequence[str],
        concurrency: int = 16,
        progress: bool = False,
        on_solution: Callable[[int, Solution], None] | None = None,
        tried: dict[int, list[str]] | None = None,
    ) -> list[Solution]:
        """Answers many questions, in order; direct-mode questions of one tool share one sandbox batch.

        ``on_solution(index, solution)`` is called as each answer completes (to write it at once).
        ``tried``: the direct solvers already refused these questions (with these notes)."""
        return run_sync(
            self.asolve_many(
                questions, concurrency=concurrency, progress=progress, on_solution=on_solution, tried=tried
            )
        )

    async def asolve_many(
        self,
        questions: Sequence[str],
        concurrency: int = 16,
        progress: bool = False,
        on_solution: Callable[[int, Solution], None] | None = None,
        tried: dict[int, list[str]] | None = None,
    ) -> list[Solution]:
        if concurrency < 1:
            raise UserError("concurrency must be at least 1")
        questions = list(questions)
        check_questions(questions)
        with span("solve_many", **{"latm.questions": len(questions)}):
            return await self._solve_all(questions, concurrency, progress, on_solution, tried)

    async def _solve_all(
        self,
        questions: list[str],
        concurrency: int,
        progress: bool,
        on_solution: Callable[[int, Solution], None] | None,
        tried: dict[int, list[str]] | None,
    ) -> list[Solution]:
        started = time.monotonic()
        routes = await self.dispatcher.aroute_many(questions, concurrency=concurrency, tried=tried)
        if self.llm_canaries and self.canaries is not None:
            routes = await self._llm_canaries(self.canaries, questions, routes, concurrency)
        sem = asyncio.Semaphore(concurrency)
        bar = _Progress(len(questions)) if progress else None

        async def one(i: int, q: str, r: Route) -> Solution:
            async with sem:
                try:
                    sol = await self._finish(q, r)
                except Exception as exc:
                    sol = Solution(question=q, answer=None, mode="failed", error=f"{type(exc).__name__}: {exc}")
            if on_solution:
                on_solution(i, sol)
            if bar:
                bar.advance()
            return sol

        try:
            jobs = (one(i, q, r) for i, (q, r) in enumerate(zip(questions, routes, strict=True)))
            solutions = list(await asyncio.gather(*jobs))
        finally:
            if bar:
                bar.close()
        elapsed = time.monotonic() - started
        for s in solutions:
            s.duration_s = s.duration_s or elapsed / max(len(solutions), 1)
        self._record(solutions)
        return solutions

    def solve_plan(self, question: str) -> PlanSolution:
        """Answers a question that needs several tools. Where every paragraph of it is a question a
        direct solver takes, each is routed as it is, with no model call; otherwise the user model
        writes one plan of calls (``latm.use.plans``), LATM checks it and runs every call whose inputs
        are ready at once in the sandbox pool, re-planning once with the error if a check or a call
        fails. Each call is counted as a use of its tool."""
        if not isinstance(question, str) or not question.strip():
            raise UserError("the question must be non-empty text")
        started = time.monotonic()
        parts = parts_of(question)
        solvers = [t for t in self.dispatcher.tools() if t.direct]
        # several paragraphs, each a direct solver takes: answered with no model call. One paragraph is
        # the planner's to read when there is one (a compound question may be one sentence whose parts a
        # solver's parser would not see), else the direct solvers' (the only way to answer it).
        split = len(parts) >= 2 or self.user_model is None
        found = route_direct(self.tool_user, parts, solvers, canaries=self.canaries) if solvers and split else None
        if found is not None and len(found.answered) == len(parts):
            sols = []
            for i, part in enumerate(parts):
                tool, value = found.answered[i]
                route = Route(tool=tool, reason=f"direct solver of {tool.name} accepted it", direct_value=value)
                sols.append(solution_of(part, tool, Answer(value=value, mode="direct"), Usage(), route))
            self._record(sols)
            calls = [
                CallOutcome(number=i, tool=s.tool or "", arguments={"question": s.question}, answer=s.answer)
                for i, s in enumerate(sols, 1)
            ]
            answer = "\n".join(s.answer or "" for s in sols)
            return PlanSolution(
                question=question, answer=answer, mode="split", calls=calls, duration_s=time.monotonic() - started
            )
        solution = self._plan_by_model(question)
        solution.duration_s = time.monotonic() - started
        self._spent(solution.usage)
        return solution

    def _plan_by_model(self, question: str) -> PlanSolution:
        exposed = expose(self.cache, self.allow_shown_only)
        if not exposed:
            return PlanSolution(question=question, answer=None, mode="failed", error="the cache has no routable tools")
        if self.user_model is None:
            return PlanSolution(
                question=question,
                answer=None,
                mode="failed",
                error="a plan needs a user model (--user or LATM_USER; in Python, LATM(user=...))",
            )
        usage, error = Usage(), None
        outcomes: list[CallOutcome] = []
        by_name = {e.name: e.tool for e in exposed}
        for attempt in (1, 2):  # the plan, and at most one re-plan with what went wrong
            try:
                done = self.user_model.complete(
                    [{"role": "user", "content": plan_prompt(question, exposed, error)}],
                    temperature=0.0,
                    max_tokens=1024,
                )
            except ModelError as exc:
                return PlanSolution(question=question, answer=None, mode="failed", usage=usage, error=str(exc))
            usage.record("user", done.model, done.usage, cached=done.cached, prices=self.prices)
            try:
                plan = with_literals(parse_plan(done.text), question)
                check_plan(plan, exposed)
            except PlanError as exc:
                error = str(exc)
                continue
            outcomes, answer = run_plan(
                plan, exposed, lambda e, a: call_exposed(self.sandbox, e, a, self.canaries), self.sandbox.pool_size
            )
            for o in outcomes:
                self.cache.record_use(by_name[o.tool].id, ok=o.answer is not None, mode=o.mode, source=self.source)  # type: ignore[arg-type]
            if answer is not None:
                return PlanSolution(
                    question=question, answer=answer, mode="plan", calls=outcomes, plans=attempt, usage=usage
                )
            error = next(f"call {o.number} ({o.tool}) failed: {o.error}" for o in outcomes if o.error)
        return PlanSolution(
            question=question, answer=None, mode="failed", calls=outcomes, plans=2, usage=usage, error=error
        )

    def solve_dataset(
        self,
        ds: Any,
        question_column: str = "question",
        *,
        concurrency: int = 16,
        workers: int | None = None,
        batch_size: int | None = None,
        backend: str | None = None,
        rate_limit: Any = None,
    ) -> Any:
        """Answers a ``ray.data.Dataset`` on the cluster; returns a lazy Dataset with the input's
        columns and answer, ok, mode, tool, tool_id, error, tokens, cost_usd added.

        Workers (an actor pool of at most ``workers``, default the cluster's CPUs minus one) get
        the routable tools as a checksummed snapshot; LLM-mode requests share one rate limit per
        endpoint (``latm.batch.ray.engine.RateLimit``). The uses reach this cache when the
        ``LATM`` object closes (``pip install 'latm[ray]'``)."""
        from latm.batch.ray.engine import solve_dataset

        job = solve_dataset(
            self,
            ds,
            question_column,
            concurrency=concurrency,
            workers=workers,
            batch_size=batch_size,
            backend=backend,
            rate_limit=rate_limit,
        )
        self.__dict__.setdefault("_ray_jobs", []).append(job)
        return job.dataset

    async def _llm_canaries(
        self, canaries: Canaries, questions: Sequence[str], routes: list[Route], concurrency: int
    ) -> list[Route]:
        """Each tool's LLM-mode share of a batch, preceded by its canaries answered the same way (the
        cheap model writes each call); a tool that fails one is quarantined and its share re-routed to
        the fallback. The canaries' tokens are this instance's spending, not any question's."""
        shares: dict[str, list[int]] = {}
        tools: dict[str, Tool] = {}
        for i, route in enumerate(routes):
            if route.tool is not None and route.direct_value is None:
                shares.setdefault(route.tool.id, []).append(i)
                tools[route.tool.id] = route.tool
        sem = asyncio.Semaphore(concurrency)
        user = self.tool_user

        async def ask(tool: Tool, question: str) -> Answer:
            async with sem:
                return await user.ause(tool, question, skip_direct=True)

        async def check(tool_id: str) -> tuple[str, bool]:
            tool = tools[tool_id]
            known = canaries.draw(tool, len(shares[tool_id]))
            answers = list(await asyncio.gather(*(ask(tool, e.question) for e in known)))
            for a in answers:
                self._spent(a.usage)
            return tool_id, canaries.settle(tool, known, [a.value for a in answers], [a.error or "" for a in answers])

        out = list(routes)
        for tool_id, ok in await asyncio.gather(*(check(t) for t in shares)):
            if not ok:
                why = canaries.quarantined.get(tool_id, "a canary failed")
                for i in shares[tool_id]:
                    out[i] = Route(tool=None, reason=f"{tools[tool_id].name} was quarantined ({why})")
        return out

    async def _finish(self, question: str, route: Route) -> Solution:
        with span("answer", **{"latm.tool": route.tool.name if route.tool else None}) as current:
            solution = await self._answer(question, route)
            current.set_attribute("latm.mode", solution.mode)
            current.set_attribute("latm.ok", solution.ok)
            return solution

    async def _answer(self, question: str, route: Route) -> Solution:
        tool = route.tool
        usage = route.usage.model_copy(deep=True)
        if tool is None:
            return await self._fallback(question, route, usage)
        if route.direct_value is not None:
            return solution_of(question, tool, Answer(value=route.direct_value, mode="direct"), usage, route)
        answer = await self.tool_user.ause(tool, question)
        usage.merge(answer.usage)
        return solution_of(question, tool, answer, usage, route)

    async def _fallback(self, question: str, route: Route, usage: Usage) -> Solution:
        model = None if self.on_miss == "raise" else self.maker_model
        why = "on_miss='raise'" if self.on_miss == "raise" else "no maker model for a fallback answer"
        return await answer_by_fallback(model, question, route, usage, why_none=why, prices=self.prices)

    def _reprobe_quarantined(self) -> None:
        """A tool a canary quarantined has left the routable ones: the other direct solvers are asked
        its task's questions (one that answers them wrongly was hidden behind it), once per tool."""
        canaries = self._canaries
        if canaries is None:
            return
        done = self.__dict__.setdefault("_reprobed", set())
        for tool_id in [t for t in canaries.quarantined if t not in done]:
            done.add(tool_id)
            reprobe(self.cache, self.cache.get(tool_id), self.sandbox, left=True)

    def _record(self, solutions: Sequence[Solution]) -> None:
        """Adds usage to the totals and counts uses per tool (one transaction per tool and mode)."""
        self._reprobe_quarantined()
        counts: dict[tuple[str, Literal["direct", "llm"], bool], list[Solution]] = {}
        for s in solutions:
            self._spent(s.usage)
            if s.tool_id and s.mode in ("direct", "llm", "failed"):
                mode: Literal["direct", "llm"] = "direct" if s.mode == "direct" else "llm"
                counts.setdefault((s.tool_id, mode, s.ok), []).append(s)
        failed: dict[str, list[tuple[str, str]]] = {}
        for s in solutions:
            if s.tool_id and not s.ok:
                failed.setdefault(s.tool_id, []).append((s.question, s.error or "no answer"))
        for tool_id, pairs in failed.items():  # for `latm ui`: what a tool failed or refused lately, and why
            self.cache.record_failures(tool_id, pairs)
        for (tool_id, mode, ok), group in counts.items():
            tokens = sum(s.usage.tokens for s in group)
            cost = sum(s.usage.known_cost_usd for s in group)
            self.cache.record_use(
                tool_id,
                ok=ok,
                mode=mode,
                tokens=tokens,
                cost_usd=cost,  # type: ignore[arg-type]
                count=len(group),
                source=self.source,
            )


class _Progress:
    """A rich progress bar on stderr for solve_many(progress=True)."""

    def __init__(self, total: int) -> None:
        from rich.progress import Progress

        self._progress = Progress(transient=True)
        self._task = self._progress.add_task("solving", total=total)
        self._progress.start()

    def advance(self) -> None:
        self._progress.advance(self._task)

    def close(self) -> None:
        self._progress.stop()
