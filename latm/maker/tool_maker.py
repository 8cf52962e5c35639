"""ToolMaker.make: one budget, the strategy that fits the maker.

``latm`` is the paper's protocol (``paper.py``), for a model that follows it; ``search``
(``search.py``) is for a weak one; ``auto`` tries the paper's protocol and searches in what is
left of the budget when it gives no tool. Only a tool that passed the judge is written to the
cache, with its full trace and cost.
"""

import time
from collections.abc import Sequence
from typing import Any

from latm.errors import ModelError, StepFailed, UserError, public_errors
from latm.judge import checker_for
from latm.maker.making_record import MakeResult, Session
from latm.maker.paper import PaperProtocol
from latm.maker.search.strategy import SearchStrategy
from tasks import Example


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
        kept = list(held_out) if held_out else None

        def session(**carried: Any) -> Session:
            return Session(
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
        unreachable = False
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
                    unreachable = True
                    break
            if reason and self.rounds > 1 and not unreachable:
                reason = f"{self.rounds} rounds failed; the last: {reason}"
        if tool is None and self.strategy in ("auto", "search") and not unreachable:  # a model that fails fails both
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
