"""LATM's exceptions: one tree, three families (as pydantic-ai has them).

```
LATMError                          except LATMError catches everything LATM raises on purpose
├── UserError                      the caller's mistake or configuration; the message says what to change
│   └── ModelConfigError           a model setting is missing or wrong (key, URL, model name)
├── RunError                       a run failed; the message says what happened
│   ├── ModelError                 a model call failed after the retries
│   │   ├── ModelHTTPError         the endpoint answered with an HTTP error (``.status``)
│   │   ├── ModelUnreachable       connection refused, DNS, timeout
│   │   ├── UnexpectedModelBehavior  a reply that is not a chat completion
│   │   └── ResponseCacheMiss      replay mode found no recorded reply
│   ├── NoToolForQuestion          no cached tool serves the question (on_miss='raise')
│   ├── RenderingError             a tool's value cannot be turned into an answer
│   └── (re-exported) sandbox.SandboxError, toolcache.ToolCacheError, tasks.TaskDataError
└── RetrySignal                    drives a retry inside LATM; never escapes ``make`` (a result says why)
    ├── ReplyProblem               a model reply that cannot be used (``.kind``; str() is the repair message)
    └── StepFailed                 a making step ran out of attempts (``.step``)
```

``sandbox``, ``toolcache`` and ``tasks`` are packages of their own that import nothing of LATM, so
their roots cannot derive from ``LATMError``. LATM's public entry points hand them on as
``ours(exc)``: the same exception object, its class swapped for one that derives from both its own
class and ``RunError``, so ``except SandboxUnavailable`` and ``except LATMError`` both catch it,
with its message, attributes and traceback unchanged.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from sandbox.errors import SandboxError
from tasks.base import TaskDataError
from toolcache.errors import ToolCacheError


class LATMError(Exception):
    """Root of LATM's own exceptions."""


class UserError(LATMError):
    """A mistake in how LATM was called or configured; the message says what to change."""


def not_utf8(path: object, exc: UnicodeDecodeError) -> UserError:
    """What every reader of a user's file says of one that is not UTF-8."""
    bad = exc.object[exc.start : exc.start + 1]
    return UserError(f"{path} is not UTF-8 text (it holds the byte {bad!r}); save it as UTF-8")


class ModelConfigError(UserError):
    """A model setting is missing or wrong (key, URL, model name)."""


class RunError(LATMError):
    """A run failed (a model, the sandbox, the cache, a data file); the message says what happened."""


class ModelError(RunError):
    """A model call failed after the retries."""


class ModelHTTPError(ModelError):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"HTTP {status}: {message}")


class ModelUnreachable(ModelError):
    """The endpoint could not be reached (connection refused, DNS, timeout)."""


class UnexpectedModelBehavior(ModelError):
    """The endpoint answered with something that is not a chat completion."""


class ResponseCacheMiss(ModelError):
    """Replay mode found no recorded response for this request."""


class NoToolForQuestion(RunError):
    """No cached tool serves the question and on_miss='raise' was asked for."""


class RenderingError(RunError, ValueError):
    """A value the tool's rendering cannot turn into an answer (the message says why)."""


class RetrySignal(LATMError):
    """Drives a retry inside LATM (a repair message, another attempt); never reaches a caller of
    ``make``, whose result carries the reason instead."""


class ReplyProblem(RetrySignal, ValueError):
    """A reply that cannot be used; ``kind`` names the failure, ``str()`` is the repair message."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class StepFailed(RetrySignal):
    """A making step ran out of attempts; ``step`` names it, ``str()`` says why."""

    def __init__(self, step: str, reason: str) -> None:
        self.step = step
        super().__init__(reason)


LEAF_ERRORS: tuple[type[Exception], ...] = (SandboxError, ToolCacheError, TaskDataError)
_dual_classes: dict[type[BaseException], type[BaseException]] = {}


def ours(exc: BaseException) -> BaseException:
    """``exc`` as a LATMError: a sandbox, cache or task error gets a class deriving from both its
    own and ``RunError`` (the same object: message, attributes and traceback kept); anything else
    is returned as it is."""
    cls = type(exc)
    if isinstance(exc, LATMError) or not isinstance(exc, LEAF_ERRORS):
        return exc
    dual = _dual_classes.get(cls)
    if dual is None:
        dual = type(cls.__name__, (cls, RunError), {"__module__": cls.__module__, "__doc__": cls.__doc__})
        _dual_classes[cls] = dual
    exc.__class__ = dual  # type: ignore[assignment]
    return exc


F = TypeVar("F", bound=Callable[..., Any])


def raises_ours(fn: F) -> F:
    """Decorates a public entry point (sync, async or a generator's maker) so that a sandbox, cache
    or task error leaves it as a LATMError (``ours``)."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except LEAF_ERRORS as exc:
                ours(exc)  # the same object, its class swapped: traceback and cause kept
                raise

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LEAF_ERRORS as exc:
            ours(exc)
            raise

    return wrapper  # type: ignore[return-value]


C = TypeVar("C", bound=type)


def public_errors(cls: C) -> C:
    """A class decorator: every public method and property of ``cls`` raises ours (``raises_ours``)."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_"):
            continue
        if inspect.isfunction(member):
            setattr(cls, name, raises_ours(member))
        elif isinstance(member, property) and member.fget is not None:
            setattr(cls, name, property(raises_ours(member.fget), member.fset, member.fdel, member.__doc__))
    return cls
