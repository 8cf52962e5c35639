"""Dispatcher: which cached tool (if any) serves a question, cheapest signal first.

1. The strict direct solvers of the cached tools whose signature the question fits
   (``latm.use.routing_index``): a solver that accepts the question is a routing decision *and*
   an answer, at no LLM cost. One acceptor, or several that agree, routes the question; two that
   disagree answer nothing directly.
2. Otherwise the cheap model classifies the question among the few most similar tools (retrieved
   from an inverted index of the tools' words, so neither the prompt nor the lookup grows with the
   cache), in the paper's format:
   ``Task: <name>`` or ``Task: unknown``.
"""

import asyncio
import contextvars
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from latm._aio import run_sync
from latm.errors import ModelError, public_errors
from latm.judge.canaries import Canaries
from latm.judge.cases import CaseRun
from latm.models import ChatModel
from latm.models.usage import PriceTable, Usage
from latm.text import clip
from latm.tracing import record_tokens, span
from latm.use.routing_index import RoutingIndex, kept, outside_frame, shortlist, words
from latm.use.tool_user import ToolUser, answer_of
from toolcache import Tool, ToolCache

MAX_SHOWN = 8
DIRECT_WORKERS = 2  # the sandbox's default pool size
WORD = re.compile(r"[a-z]+")
TASK_LINE = re.compile(r"Task:\s*`?([\w.-]+)`?", re.I)


class Route(BaseModel):
    tool: Tool | None
    reason: str
    usage: Usage = Field(default_factory=Usage)
    direct_value: str | None = None  # the answer, when a direct solver routed the question


def routable(tool: Tool, allow_shown_only: bool = False, max_error: float | None = None) -> bool:
    """Whether a (current) tool may answer questions: verified, judged on held-out questions unless
    the user allowed tools verified on their shown examples only, and, where the user asked for one,
    with an error bound at or under ``max_error``."""
    trust = tool.verification.trust
    trusted = trust == "held_out" or (allow_shown_only and trust == "shown_only")
    bound = tool.error_bound
    within = max_error is None or (bound is not None and bound <= max_error)
    return tool.status == "verified" and trusted and within


def routable_tools(cache: ToolCache, allow_shown_only: bool = False, max_error: float | None = None) -> list[Tool]:
    """The tools that may answer questions: each task's current tool, where routable."""
    current = (cache.current(task) for task in cache.tasks())
    return [t for t in current if t is not None and routable(t, allow_shown_only, max_error)]


def tool_words(tool: Tool) -> set[str]:
    return words(" ".join([tool.task, tool.description, *(u.question for u in tool.use_cases[:2])]))


def failure_note(tool: Tool, run: CaseRun, first: bool) -> str | None:
    """Why a solver's failure is worth telling the user: a timeout always; an error other than
    the ValueError that refuses a foreign question, from the question's first-ranked solver."""
    if run.timed_out:
        return f"{tool.name} timed out"
    last = (run.error or "").strip().splitlines()[-1:] or [""]
    if first and not run.ok and not last[0].startswith("ValueError"):
        return f"{tool.name} raised {clip(last[0], 200)}"
    return None


OnAccepted = Callable[[Tool, list[tuple[int, str]]], None]


@dataclass
class DirectRouting:
    """What the direct solvers made of a batch: each question's (tool, answer) acceptances, the
    questions they answer (one acceptor, or several that agree), and notes on solvers that timed out,
    failed unexpectedly or disagreed on a question."""

    accepted: dict[int, list[tuple[Tool, str]]]
    notes: dict[int, list[str]] = field(default_factory=dict)
    answered: dict[int, tuple[Tool, str]] = field(default_factory=dict)
    solver_runs: int = 0


def decide(hits: Sequence[tuple[Tool, str]]) -> tuple[Tool, str] | str | None:
    """A question's direct answer from its acceptances: the answer when they agree, why not when two
    disagree (neither answers it directly), None when no solver accepted it."""
    if not hits:
        return None
    values = {v for _, v in hits}
    if len(values) == 1:
        return hits[0]
    shown = "; ".join(f"{t.name} answered {clip(v, 60)!r}" for t, v in hits[:3])
    return f"direct solvers disagree ({shown}): none answers it directly"


def route_direct(
    user: ToolUser,
    questions: Sequence[str],
    solvers: Sequence[Tool],
    *,
    on_accepted: OnAccepted | None = None,
    canaries: Canaries | None = None,
) -> DirectRouting:
    """Offers each question to every direct solver whose signature it fits (``RoutingIndex``), so a
    question that fits none costs no solver run, and one that two solvers accept is answered only
    when they agree. Each tool's questions of a round run as one sandbox batch, the batches of
    different tools side by side (one per sandbox worker). ``on_accepted(tool, [(index, answer)])``
    is called as each question's answer is settled (to write rows). With ``canaries``, each tool's
    batch carries questions with known answers; a tool that fails one is quarantined, its batch's
    answers are dropped and it is offered nothing more."""
    index = routing_index(solvers)
    words_of = [words(q) for q in questions]
    order = [
        [t for t in found if not outside_frame(t, q)]
        for found, q in zip(index.candidates_all(words_of), questions, strict=True)
    ]
    out = DirectRouting(accepted={i: [] for i in range(len(questions))})
    by_id = {t.id: t for t in solvers}
    waiting = [len(c) for c in order]

    def run(tool: Tool, batch: list[int]) -> tuple[Tool, list[int], list[CaseRun] | None]:
        asked = [questions[i] for i in batch]
        if canaries is None:
            return tool, batch, user.direct_many(tool, asked, fitted=True)
        mixed = canaries.mix(tool, asked)
        runs, ok = canaries.judge(tool, mixed, user.direct_many(tool, mixed.questions, fitted=True))
        return tool, batch, runs if ok else None

    def settle(done: list[int]) -> None:
        took: dict[str, list[tuple[int, str]]] = {}
        for i in done:
            decided = decide(out.accepted[i])
            if isinstance(decided, tuple):
                out.answered[i] = decided
                took.setdefault(decided[0].id, []).append((i, decided[1]))
            elif decided is not None:
                out.notes.setdefault(i, []).append(decided)
        if on_accepted is not None:
            for tool_id, pairs in took.items():
                on_accepted(by_id[tool_id], pairs)

    with ThreadPoolExecutor(max_workers=DIRECT_WORKERS) as pool:
        for rank in range(max((len(c) for c in order), default=0)):
            batches: dict[str, list[int]] = {}
            passed_over = []  # questions whose solver of this round was quarantined meanwhile
            for i, tools in enumerate(order):
                if len(tools) > rank:
                    if canaries is not None and tools[rank].id in canaries.quarantined:
                        waiting[i] -= 1
                        passed_over.append(i)
                        continue
                    batches.setdefault(tools[rank].id, []).append(i)
            settle([i for i in passed_over if waiting[i] == 0])
            # each job in a copy of this context: its spans are children of the routing's
            jobs = [
                pool.submit(contextvars.copy_context().run, run, by_id[tid], batch) for tid, batch in batches.items()
            ]
            for job in as_completed(jobs):
                tool, batch, results = job.result()
                out.solver_runs += len(batch)
                if results is None:  # quarantined by a failed canary: none of this batch's answers is used
                    for i in batch:
                        out.notes.setdefault(i, []).append(f"{tool.name} was quarantined (a canary failed)")
                else:
                    for i, r in zip(batch, results, strict=True):
                        value, _ = answer_of(r, questions[i], tool)
                        if value is not None:
                            out.accepted[i].append((tool, value))
                        elif note := failure_note(tool, r, first=rank == 0):
                            out.notes.setdefault(i, []).append(note)
                ready = []
                for i in batch:
                    waiting[i] -= 1
                    if waiting[i] == 0:
                        ready.append(i)
                settle(ready)
    return out


_INDEXES: dict[tuple[str, ...], RoutingIndex] = {}


def routing_index(solvers: Sequence[Tool]) -> RoutingIndex:
    """The routing index of these solvers (kept for the last few sets of solvers: a batch engine asks
    for the same set batch after batch)."""
    return kept(_INDEXES, tuple(t.id for t in solvers), lambda: RoutingIndex(solvers))


def classify_prompt(question: str, tools: Sequence[Tool]) -> str:
    listing = "\n\n".join(
        f"Task: {t.task}\nDescription: {t.description}\nExample question: "
        f"{t.use_cases[0].question if t.use_cases else '(none)'}"
        for t in tools
    )
    return (
        "Here are the tasks that have a tool:\n\n"
        f"{listing}\n\n"
        "Which task does the question below belong to? Reply with one line: `Task: <name>` using a name "
        "listed above, or `Task: unknown` if it belongs to none of them.\n\n"
        f"Question: {question}\nTask:"
    )


@public_errors
class Dispatcher:
    def __init__(
        self,
        model: ChatModel | None,
        cache: ToolCache,
        user: ToolUser | None = None,
        *,
        prices: PriceTable | None = None,
        allow_shown_only: bool = False,
        max_error: float | None = None,
        canaries: Canaries | None = None,
    ) -> None:
        self.model = model
        self.canaries = canaries
        self.cache = cache
        self.user = user or ToolUser(None)
        self.prices = prices
        self.allow_shown_only = allow_shown_only
        self.max_error = max_error

    def tools(self) -> list[Tool]:
        """The routable tools: the current (newest verified) tool of every task, when it was
        right on held-out questions (or verified on shown examples only, where allowed) and its
        error bound is within ``max_error`` where one is asked for."""
        return routable_tools(self.cache, self.allow_shown_only, self.max_error)

    # -- one question ------------------------------------------------------------------------------

    def route(self, question: str) -> Route:
        return self.route_many([question])[0]

    def route_many(self, questions: Sequence[str]) -> list[Route]:
        """Routes many questions: each is offered to the direct solvers whose signature it fits (each
        solver runs once over its questions), and two that accept a question but disagree send it to
        the model; the rest go to the model's classification."""
        return run_sync(self.aroute_many(questions))

    async def aroute_many(
        self,
        questions: Sequence[str],
        *,
        concurrency: int = 16,
        tried: dict[int, list[str]] | None = None,
    ) -> list[Route]:
        """``tried``: the direct solvers were already offered these questions (by the local
        engine), with these notes; they are not run again."""
        with span("route", **{"latm.questions": len(questions)}) as current:
            routes = await self._route_all(questions, concurrency, tried)
            current.set_attribute("latm.routed", sum(r.tool is not None for r in routes))
            return routes

    async def _route_all(
        self, questions: Sequence[str], concurrency: int, tried: dict[int, list[str]] | None
    ) -> list[Route]:
        tools = self.tools()
        routes: list[Route | None] = [None] * len(questions)
        notes: dict[int, list[str]] = dict(tried or {})
        if tools:
            if tried is None:
                notes = await asyncio.to_thread(self._route_direct, questions, tools, routes)
            pending = [i for i, r in enumerate(routes) if r is None]
            if pending:
                classified = await self._classify_all(
                    [questions[i] for i in pending], tools, concurrency, [notes.get(i, []) for i in pending]
                )
                for i, route in zip(pending, classified, strict=True):
                    routes[i] = route
        why = "the cache holds no tools" if not self.cache.tasks() else self._why_none()
        return [r or Route(tool=None, reason=why) for r in routes]

    def _why_none(self) -> str:
        """Why a cache that holds tools routes to none of them (imports not verified here, quarantines)."""
        current = [t for t in (self.cache.current(task) for task in self.cache.tasks()) if t is not None]
        unverified = sum(not t.verification.here and not t.verification.trusted for t in current)
        said = f"the cache holds {len(current)} current tool(s), none routable here"
        if unverified:
            said += f" ({unverified} imported and not verified here: `latm cache verify REF`)"
        return said

    def _route_direct(
        self, questions: Sequence[str], tools: list[Tool], routes: list[Route | None]
    ) -> dict[int, list[str]]:
        solvers = [t for t in tools if t.direct]
        found = route_direct(self.user, questions, solvers, canaries=self.canaries)
        for i, (tool, value) in found.answered.items():
            agree = len(found.accepted[i])
            reason = f"direct solver of {tool.name} accepted it" + (f" ({agree} agree)" if agree > 1 else "")
            routes[i] = Route(tool=tool, reason=reason, direct_value=value)
        return found.notes

    async def _classify_all(
        self, questions: Sequence[str], tools: list[Tool], concurrency: int = 16, notes: Sequence[list[str]] = ()
    ) -> list[Route]:
        if self.model is None:
            return [
                Route(
                    tool=None,
                    reason="no direct solver accepted it"
                    + (f" ({'; '.join(n)})" if n else "")
                    + " and no user model (--user) to choose a tool",
                )
                for _, n in zip(questions, list(notes) or [[]] * len(questions), strict=True)
            ]
        sem = asyncio.Semaphore(concurrency)

        async def one(q: str, n: list[str]) -> Route:
            async with sem:
                route = await self.aclassify(q, tools)
            if route.tool is None and n:
                route.reason += f" (direct solvers: {'; '.join(n)})"
            return route

        listed = list(notes) or [[]] * len(questions)
        return list(await asyncio.gather(*(one(q, n) for q, n in zip(questions, listed, strict=True))))

    async def aclassify(self, question: str, tools: list[Tool]) -> Route:
        """Asks the cheap model which task the question belongs to."""
        assert self.model is not None
        shown = shortlist(question, tools, MAX_SHOWN, tool_words)
        usage = Usage()
        try:
            with span("model_call", **{"latm.role": "dispatcher"}) as current:
                done = await self.model.acomplete(
                    [{"role": "user", "content": classify_prompt(question, shown)}], temperature=0.0, max_tokens=20
                )
                record_tokens(current, done.model, done.usage.prompt_tokens, done.usage.completion_tokens)
        except ModelError as exc:
            return Route(tool=None, reason=f"the dispatcher model failed: {exc}", usage=usage)
        usage.record("dispatcher", done.model, done.usage, cached=done.cached, prices=self.prices)
        m = TASK_LINE.search(done.text) or re.match(r"\s*`?([\w.-]+)", done.text)
        name = m.group(1) if m else "unknown"
        tool = next((t for t in shown if t.task == name or t.name == name), None)
        if tool is None:
            return Route(
                tool=None, reason=f"the dispatcher model answered {clip(done.text.strip(), 60)!r}", usage=usage
            )
        return Route(tool=tool, reason=f"the dispatcher model chose {tool.task}", usage=usage)
