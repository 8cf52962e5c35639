"""LATM's exceptions, in three families (as in pydantic-ai):

- ``UserError``: the caller's mistake or missing configuration; the message names the fix.
- ``ModelError`` and friends: a model call failed (HTTP error, unreachable, unusable reply).
- ``LATMError`` is the root, so ``except LATMError`` catches everything of ours.
"""


class LATMError(Exception):
    """Root of LATM's own exceptions."""


class UserError(LATMError):
    """A mistake in how LATM was called or configured; the message says what to change."""


class ModelConfigError(UserError):
    """A model setting is missing or wrong (key, URL, model name)."""


class ModelError(LATMError):
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


class NoToolForQuestion(LATMError):
    """No cached tool serves the question and on_miss='raise' was asked for."""
