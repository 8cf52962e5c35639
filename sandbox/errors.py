"""Exceptions of the sandbox package. Each message says what to do about it."""


class SandboxError(Exception):
    """Base class of every error the sandbox raises."""


class SandboxUnavailable(SandboxError):
    """The requested backend cannot run here (engine down, image missing, no interpreter)."""


class SandboxTimeout(SandboxError):
    """Raised by helpers that turn a timed-out result into an exception."""


class PolicyViolation(SandboxError):
    """Code broke the static policy (see ``sandbox.policy``)."""

    def __init__(self, violations: list) -> None:
        self.violations = violations
        lines = "; ".join(str(v) for v in violations)
        super().__init__(f"code violates the tool policy: {lines}")


class WorkerCrashed(SandboxError):
    """The worker (container or process) died or stopped answering; it has been replaced."""

    def __init__(self, message: str, *, hung: bool = False) -> None:
        super().__init__(message)
        self.hung = hung  # it stopped answering (rather than dying): never retried
