"""A making's journal: what ``latm make`` has spent, kept so an interrupted or exhausted making can
continue instead of paying again.

Every reply of the making's models is recorded as it arrives (a response cache of its own, keyed by
request and, for sampled requests, by how many times that request was asked), so ``--resume``
replays the same conversation free, reply for reply, up to where it stopped, and then asks the
model for what is new. Beside it, ``state.json`` says what the making had done when it stopped: each
attempt's step and outcome, the candidates the search scored and its best score, the tokens spent.
A making that ends with a tool clears its journal.
"""

import json
import re
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from toolcache import default_directory


def journal_dir(task: str) -> Path:
    """Where the journal of a making of ``task`` lives: inside the tool cache's directory (nothing of
    LATM's is written outside ``LATM_CACHE_DIR``)."""
    slug = re.sub(r"[^\w.-]", "_", task)[:80] or "task"
    return default_directory() / "makings" / slug


def start(task: str, resume: bool) -> tuple[Path, dict[str, Any] | None]:
    """The journal's directory, emptied unless resuming; and the state an earlier making left (resume)."""
    where = journal_dir(task)
    state_file = where / "state.json"
    earlier = None
    if resume and state_file.is_file():
        earlier = json.loads(state_file.read_text(encoding="utf-8"))
    if not resume and where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True, exist_ok=True)
    return where, earlier


def recorded(where: Path) -> tuple[int, int]:
    """(replies, tokens) the journal holds: what a resumed making gets back free."""
    import diskcache

    from latm.models.protocol import Completion

    replies = tokens = 0
    if (where / "replies").is_dir():
        with diskcache.Cache(str(where / "replies")) as db:
            for key in db.iterkeys():
                done = Completion.model_validate_json(db[key])
                replies += 1
                tokens += done.usage.prompt_tokens + done.usage.completion_tokens
    return replies, tokens


def write_state(where: Path, task: str, how: str, attempts: Sequence[Any]) -> Path:
    """Records where a making stopped (``how``: interrupted, or no tool) and what it had done."""
    search = [o for a in attempts if getattr(a, "step", "") == "search" for o in (a.observations or [])]
    best = max((max(o.get("scores") or [0]) for o in search), default=None)
    state = {
        "task": task,
        "stopped": how,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "attempts": [f"{a.step}:{a.outcome or 'asked'}" for a in attempts],
        "candidates_scored": sum(len(o.get("scores") or []) for o in search),
        "best_score": best,
        "replies_recorded": recorded(where)[0],
        "tokens_spent": recorded(where)[1],
    }
    path = where / "state.json"
    path.write_text(json.dumps(state, indent=1), encoding="utf-8")
    return path


def finish(where: Path) -> None:
    """A making that made its tool needs no journal."""
    shutil.rmtree(where, ignore_errors=True)
