"""Run untrusted, LLM-written Python safely: Docker (default) or a local process (fallback).

    from sandbox import Sandbox, Limits
    with Sandbox.open(limits=Limits(timeout_s=5)) as sb:
        result = sb.call("def f(x): return x * 2", "f", args=[21])
        assert result.value == 42

This package knows nothing about LLMs and depends on nothing else of LATM.
"""

from sandbox.core import Sandbox, WeakerBackendWarning
from sandbox.errors import (
    PolicyViolation,
    SandboxError,
    SandboxTimeout,
    SandboxUnavailable,
    WorkerCrashed,
)
from sandbox.models import ErrorInfo, ExecutionResult, Limits

__all__ = [
    "ErrorInfo",
    "ExecutionResult",
    "Limits",
    "PolicyViolation",
    "Sandbox",
    "SandboxError",
    "SandboxTimeout",
    "SandboxUnavailable",
    "WeakerBackendWarning",
    "WorkerCrashed",
]
