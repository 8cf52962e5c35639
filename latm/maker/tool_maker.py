"""ToolMaker.make: one budget, the strategy that fits the maker.

``latm`` is the paper's protocol (``paper.py``), for a model that follows it; ``search``
(``search/``) is for a weak one; ``auto`` tries one and then the other within the
budget (which first: ``ToolMaker._order``). Only a tool that passed the judge is written to the
cache, with its full trace and cost.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from latm.errors import ModelError, StepFailed, UserError, public_errors
from latm.judge import checker_for
from latm.maker.loop import Strategy
from latm.maker.making_record import MakeResult, Session
from latm.maker.paper import PaperProtocol
from latm.maker.search.strategy import SearchStrategy
from latm.maker.search.templates import discover
from tasks import TASKS, Example
from toolcache import Tool

SEARCH_FIRST_SHARE = 2 / 3  # of the budget, for a search the paper's protocol may follow (it took 3-10k tokens)


@public_errors
class ToolMaker(PaperProtocol, SearchStrategy):
    """Makes verified tools with a strong model (the paper's tool maker), or with a weak one by search."""

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
        s = Session(
            task=task,
            train=list(train),
            valid=list(valid),
            check=checker_for(task),
            kept_back=list(held_out) if held_out else None,
        )
        reason: str | None = None
        tool = None
        order = self._order(task, s.shown)
        for number, way in enumerate(order):
            if number:  # the way before gave no tool: the next, in a fresh session that carries the cost
                if way == "latm" and s.usage.tokens >= self.token_budget:
                    break  # nothing left of the budget
                s = s.fresh()
            s.strategy = way
            # a search with a way after it leaves that way a third of the budget
            share = SEARCH_FIRST_SHARE if number < len(order) - 1 else 1.0
            tried = self._make_by_protocol(s) if way == "latm" else self._search_once(s, share)
            s, tool = tried.session, tried.tool
            reason = tried.reason if not reason or tried.reason is None else f"{reason}; then {tried.reason}"
            if tool is not None or tried.unreachable:  # a model that fails fails both
                break
        return MakeResult(
            task=task,
            tool=tool,
            attempts=s.attempts,
            usage=s.usage,
            reason=reason if tool is None else None,
            duration_s=time.monotonic() - started,
        )

    def _order(self, task: str, shown: Sequence[Example]) -> list[Strategy]:
        """The ways ``make`` tries, in turn. ``auto`` searches first for a task LATM does not ship
        whose shown questions share a form (``Template.has_form``): the search's tool parses with the framework's strict
        reader (refusing what the template does not read), where the paper's protocol would parse
        with the model's own parser, which a user's task judges only by its few kept-back examples
        and near-variants (a built-in task judges either on hundreds of fresh questions). On the
        1.5B maker, the search made every own-task tool the paper's protocol did not."""
        if self.strategy != "auto":
            return [self.strategy]
        template = discover([ex.question for ex in shown])
        if task not in TASKS and template is not None and template.has_form:
            return ["search", "latm"]
        return ["latm", "search"]

    def _make_by_protocol(self, s: Session) -> "_Tried":
        """The paper's protocol, ``rounds`` conversations; each later one fresh, sampled from the start."""
        reason = None
        for number in range(1, self.rounds + 1):
            if number > 1:
                s = s.fresh()
                s.round = number
            try:
                return _Tried(s, self._make_once(s))
            except StepFailed as exc:
                reason = f"{exc.step} failed after {self.max_attempts} attempt(s): {exc}"
            except ModelError as exc:
                return _Tried(s, None, f"the model call failed: {exc}", unreachable=True)
        if reason and self.rounds > 1:
            reason = f"{self.rounds} rounds failed; the last: {reason}"
        return _Tried(s, None, reason)

    def _search_once(self, s: Session, share: float = 1.0) -> "_Tried":
        """The search, in ``share`` of the budget (what is left of it at most)."""
        try:
            return _Tried(s, self._make_by_search(s, int(self.token_budget * share)))
        except StepFailed as exc:
            return _Tried(s, None, f"search: {exc}")
        except ModelError as exc:
            return _Tried(s, None, f"the model call failed: {exc}", unreachable=True)


@dataclass
class _Tried:
    """What one way of making gave: the session it ended in, its tool or why none."""

    session: Session
    tool: Tool | None
    reason: str | None = None
    unreachable: bool = False  # the model could not be called: no other way will do better
