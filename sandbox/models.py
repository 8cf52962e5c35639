"""Data that crosses the sandbox boundary: limits in, results out."""

from typing import Any, Literal

from pydantic import BaseModel, Field

BackendName = Literal["docker", "process"]


class Limits(BaseModel):
    """Resource limits for one call (timeout, output) or one container/child (the rest)."""

    timeout_s: float = Field(5.0, gt=0, description="wall-clock limit of each call")
    memory_mb: int = Field(256, ge=32, description="address space of the code (and container RAM)")
    max_output_bytes: int = Field(1_000_000, ge=1024, description="cap per stream per call")
    max_value_bytes: int = Field(8_000_000, ge=1024, description="cap on the JSON return value")
    pids: int = Field(64, ge=8, description="processes the code may have at once")
    cpus: float = Field(1.0, gt=0, description="CPU share of a container")
    tmpfs_mb: int = Field(64, ge=1, description="size of the writable /tmp")
    file_mb: int = Field(16, ge=1, description="largest file the code may write")
    open_files: int = Field(64, ge=16, description="open file descriptors of the code")


class ErrorInfo(BaseModel):
    type: str
    message: str
    traceback: str = ""
    lineno: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.lineno})" if self.lineno else ""
        return f"{self.type}{where}: {self.message}"


class ExecutionResult(BaseModel):
    """What happened when code ran in the sandbox. ``value`` is the JSON-decoded return."""

    ok: bool
    value: Any = None
    stdout: str = ""
    stderr: str = ""
    error: ErrorInfo | None = None
    timed_out: bool = False
    memory_exceeded: bool = False
    truncated: bool = False
    duration_s: float = 0.0
    backend: BackendName

    @classmethod
    def from_frame(cls, frame: dict[str, Any], backend: BackendName) -> "ExecutionResult":
        """Builds a result from a worker frame (trusted shape: built by our worker)."""
        fields = {k: v for k, v in frame.items() if k in cls.model_fields and k != "backend"}
        error = fields.pop("error", None)
        # model_construct: 10,000 results of one call_many would spend 0.2 s validating.
        values = {**_DEFAULTS, **fields, "backend": backend}
        values["error"] = ErrorInfo.model_construct(**error) if error else None
        return cls.model_construct(**values)

    @classmethod
    def failure(cls, backend: BackendName, type_: str, message: str) -> "ExecutionResult":
        return cls(ok=False, backend=backend, error=ErrorInfo(type=type_, message=message))


_DEFAULTS: dict[str, Any] = {
    name: f.default for name, f in ExecutionResult.model_fields.items() if name not in ("ok", "backend")
}
