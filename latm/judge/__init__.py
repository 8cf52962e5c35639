"""Where a tool is judged: on its answers, by the framework, never by the model.

``cases`` runs a tool's cases in the sandbox (unit tests, use cases, direct-solver calls, mutants);
``rendering`` makes a value answer text, one rendering per tool; ``checking`` compares answers with
the task's checker; ``mutations`` refuses cases and solvers that do not need the tool; ``literals``
names code that carries the shown answers; ``strictness`` asks a direct solver other tasks'
questions; ``held_out`` judges a tool on questions its maker never saw; ``reverify`` runs every
check of a stored tool again. The maker's strategies, imports and ``latm cache verify`` all judge
through these functions.
"""

from latm.judge.checking import FAILURE_WORDS, CaseOutcome, Checker, as_text, checker_for, generic_check, judge
from latm.judge.held_out import (
    HELD_OUT,
    HELD_OUT_DIRECT,
    HeldOutSet,
    fresh_instances,
    held_out_set,
    held_out_verdict,
    judge_direct,
    judge_direct_held_out,
    judge_through_user,
)
from latm.judge.literals import carried_literals
from latm.judge.mutations import direct_survives_mutation, vacuous_cases
from latm.judge.reverify import Reverification, reverify
from latm.judge.strictness import Probe, captured, near_misses, reprobe, strictness_probes

__all__ = [
    "FAILURE_WORDS",
    "HELD_OUT",
    "HELD_OUT_DIRECT",
    "CaseOutcome",
    "Checker",
    "HeldOutSet",
    "Probe",
    "Reverification",
    "as_text",
    "captured",
    "carried_literals",
    "checker_for",
    "direct_survives_mutation",
    "fresh_instances",
    "generic_check",
    "held_out_set",
    "held_out_verdict",
    "judge",
    "judge_direct",
    "judge_direct_held_out",
    "judge_through_user",
    "near_misses",
    "reprobe",
    "reverify",
    "strictness_probes",
    "vacuous_cases",
]
