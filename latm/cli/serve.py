"""``latm serve mcp``: the tool cache as an MCP server (stdio by default, or streamable HTTP)."""

import click

from latm.cli.options import model_options
from latm.cli.render import err_console, fail
from latm.errors import UserError
from latm.settings import Settings


@click.group("serve")
def serve_group() -> None:
    """Serve the cached tools to other agents."""


@serve_group.command("mcp")
@click.option(
    "--http",
    "http",
    default=None,
    metavar="HOST:PORT",
    help="Serve streamable HTTP on HOST:PORT (loopback only unless --allow-remote) instead of stdio.",
)
@click.option("--allow-remote", is_flag=True, help="Allow --http on a non-loopback address (no authentication!).")
@click.option(
    "--expose",
    "expose_mode",
    type=click.Choice(["all", "router"]),
    default="all",
    show_default=True,
    help="all: every tool is listed; router: only latm_solve and latm_find_tools (tools stay callable by name).",
)
@click.option(
    "--timeout",
    "timeout_s",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Sandbox limit per call, seconds.",
)
@click.option("--pool", default=2, show_default=True, type=click.IntRange(min=1), help="Sandbox workers.")
@click.option(
    "--allow-shown-only",
    is_flag=True,
    help="Also serve tools verified only on the examples their maker saw (no held-out questions).",
)
@click.option("--poll", "poll_s", default=1.0, show_default=True, type=click.FloatRange(min=0.05), hidden=True)
@model_options
def mcp(
    http: str | None,
    allow_remote: bool,
    expose_mode: str,
    timeout_s: float,
    pool: int,
    allow_shown_only: bool,
    poll_s: float,
    settings: Settings,
) -> None:
    """Serve every routable tool of the cache over MCP; every call runs in the sandbox.

    A client configuration (Claude Desktop, an IDE): {"mcpServers": {"latm": {"command": "latm",
    "args": ["serve", "mcp"]}}}.
    """
    import anyio

    from latm.facade import LATM
    from latm.interop.mcp_server import ToolServer, is_loopback, parse_host_port
    from sandbox import Limits
    from toolcache import ToolCache

    address = None
    if http is not None:
        try:
            address = parse_host_port(http)
        except UserError as exc:
            fail(str(exc), 2)
        assert address is not None
        if not is_loopback(address[0]) and not allow_remote:
            fail(
                f"--http {http}: {address[0]} is not loopback, and the server runs tools for anyone who reaches it "
                "(no authentication); use 127.0.0.1, or --allow-remote",
                2,
            )
    cache = ToolCache()
    sandbox = settings.open_sandbox(Limits(timeout_s=timeout_s), pool_size=pool)
    try:
        latm = LATM(
            maker=settings.maker,
            user=settings.user or settings.maker,
            settings=settings,
            cache=cache,
            sandbox=sandbox,
            allow_shown_only=allow_shown_only,
            source="mcp",
        )
        server = ToolServer(
            cache,
            sandbox,
            latm,
            expose_mode="router" if expose_mode == "router" else "all",
            allow_shown_only=allow_shown_only,
            poll_s=poll_s,
            log=lambda text: err_console.print(text, markup=False, highlight=False),
        )
        err_console.print(
            f"latm MCP server: {len(server.exposed())} tool(s) from {cache.directory}, expose {expose_mode}, "
            f"sandbox {sandbox.backend}, maker {latm.maker_model.name if latm.maker_model else 'none'}, "
            f"user {latm.user_model.name if latm.user_model else 'none'}",
            markup=False,
            highlight=False,
        )
        try:
            if address is None:
                anyio.run(server.serve_stdio)
            else:
                anyio.run(server.serve_http, *address)
        except KeyboardInterrupt:
            pass
    finally:
        sandbox.close()
        cache.close()
