"""The options commands share, each defined once: the models and the sandbox (gathered into one
``Settings``), the maker's budget, the Ray engine's knobs (one ``RayOptions``); and the facade built
from the settings."""

import functools
from collections.abc import Callable
from typing import Any

import click

from latm.batch.ray.limits import RayOptions
from latm.cli.render import err_console, fail
from latm.errors import LATMError
from latm.settings import Settings


def attempts_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--max-attempts, --rounds and --strategy: the maker's budget and way (a small local model needs more
    than a strong one, and the search strategy)."""
    fn = click.option(
        "--strategy",
        type=click.Choice(["auto", "latm", "search"]),
        default="auto",
        show_default=True,
        help="latm: the paper's protocol; search: template discovery and sampled candidates (weak makers); "
        "auto: both in one budget, the search first for your own task when its questions share a template.",
    )(fn)
    fn = click.option(
        "--rounds",
        default=1,
        show_default=True,
        type=click.IntRange(min=1),
        help="Fresh, sampled conversations to try when a making fails.",
    )(fn)
    return click.option(
        "--max-attempts",
        default=3,
        show_default=True,
        type=click.IntRange(min=1),
        help="Attempts per making step (propose, verify, wrap, direct).",
    )(fn)


def model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--maker/--user/--base-url/--api-key and --backend, handed to the command as one ``settings``
    (argument, then LATM_* variable, then default). An explicit process backend is said once."""

    @functools.wraps(fn)
    def with_settings(
        *args: Any,
        maker: str | None,
        user_model: str | None,
        base_url: str | None,
        api_key: str | None,
        backend: str | None,
        **kwargs: Any,
    ) -> Any:
        _say_process(backend)
        settings = Settings.load(maker=maker, user=user_model, base_url=base_url, api_key=api_key, backend=backend)
        return fn(*args, settings=settings, **kwargs)

    for option in reversed(
        [
            click.option("--maker", default=None, help="Strong model that makes tools (or LATM_MAKER)."),
            click.option("--user", "user_model", default=None, help="Cheap model that uses tools (or LATM_USER)."),
            click.option("--base-url", default=None, help="OpenAI-compatible endpoint (or LATM_BASE_URL)."),
            click.option("--api-key", default=None, help="API key (or LATM_API_KEY / OPENAI_API_KEY)."),
            BACKEND,
        ]
    ):
        with_settings = option(with_settings)
    return with_settings


BACKEND = click.option(
    "--backend",
    type=click.Choice(["auto", "docker", "process"]),
    default=None,
    help="Sandbox backend (default: LATM_SANDBOX_BACKEND, else auto: Docker when it answers).",
)


def _say_process(backend: str | None) -> None:
    """An explicit process backend is said once, on stderr."""
    if backend == "process":
        from sandbox.core import PROCESS_WEAKNESS

        err_console.print(f"warning: --backend process: the process backend, {PROCESS_WEAKNESS}", highlight=False)


def sandbox_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--backend alone, for commands that run tools but call no model; handed on as ``settings``."""

    @functools.wraps(fn)
    def with_settings(*args: Any, backend: str | None, **kwargs: Any) -> Any:
        _say_process(backend)
        return fn(*args, settings=Settings.load(backend=backend), **kwargs)

    return BACKEND(with_settings)


def open_latm(
    settings: Settings,
    *,
    offline_ok: bool = False,
    on_attempt: Callable[[Any], None] | None = None,
    allow_shown_only: bool = False,
    max_error: float | None = None,
    llm_canaries: bool = False,
) -> tuple[Any, bool]:
    """The facade from the settings; with ``offline_ok`` and no model anywhere, the demo models."""
    from latm.facade import LATM

    if offline_ok and not (settings.maker or settings.user):
        from latm.models.demo import demo_maker, demo_user

        return LATM(
            maker=demo_maker(),
            user=demo_user(),
            settings=settings,
            on_attempt=on_attempt,
            allow_shown_only=allow_shown_only,
            max_error=max_error,
            llm_canaries=llm_canaries,
            source="cli",
        ), True
    try:
        return LATM(
            maker=settings.maker,
            user=settings.user or settings.maker,
            settings=settings,
            on_attempt=on_attempt,
            allow_shown_only=allow_shown_only,
            max_error=max_error,
            llm_canaries=llm_canaries,
            source="cli",
        ), False
    except LATMError as exc:
        fail(str(exc))
        raise


def ray_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--ray-address, --workers, --batch-size, --rps and --max-in-flight, handed on as one ``ray``."""

    @functools.wraps(fn)
    def with_ray(
        *args: Any,
        ray_address: str | None,
        workers: int | None,
        batch_size: int | None,
        rps: float,
        max_in_flight: int,
        **kwargs: Any,
    ) -> Any:
        ray = RayOptions(
            address=ray_address, workers=workers, batch_size=batch_size, rps=rps, max_in_flight=max_in_flight
        )
        return fn(*args, ray=ray, **kwargs)

    for option in reversed(
        [
            click.option(
                "--ray-address", default=None, help="Ray cluster to run on (else RAY_ADDRESS, else a local Ray)."
            ),
            click.option(
                "--workers", default=None, type=click.IntRange(min=1), help="Ray actors at most (default CPUs - 1)."
            ),
            click.option(
                "--batch-size",
                default=None,
                type=click.IntRange(min=1),
                help="Ray: rows per batch an actor answers at once (default 2000; smaller for LLM-mode rows).",
            ),
            click.option(
                "--rps", default=20.0, show_default=True, type=float, help="Ray: requests/s per endpoint, cluster-wide."
            ),
            click.option(
                "--max-in-flight",
                default=8,
                show_default=True,
                type=click.IntRange(min=1),
                help="Ray: requests in flight.",
            ),
        ]
    ):
        with_ray = option(with_ray)
    return with_ray
