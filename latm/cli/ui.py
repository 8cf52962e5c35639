"""``latm ui``: the web inspector of the tool cache, on loopback unless asked otherwise."""

import click

from latm.cli.render import err_console, fail


@click.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8700, show_default=True, type=click.IntRange(min=1, max=65535))
@click.option("--allow-remote", is_flag=True, help="Listen on a non-loopback address (no authentication!).")
def ui(host: str, port: int, allow_remote: bool) -> None:
    """Inspect the tool cache in a web browser: every tool, its code, how it was judged and made, its
    versions, what it failed lately, and what it cost against the maker model alone."""
    import uvicorn

    from latm.interop.mcp_server import is_loopback
    from latm.ui.app import make_app

    if not is_loopback(host) and not allow_remote:
        fail(
            f"--host {host} is not loopback: anyone who reaches it reads your cache (no authentication); "
            "use 127.0.0.1, or --allow-remote",
            2,
        )
    import socket

    try:  # say a taken port plainly, before claiming to listen
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port} ({exc.strerror or exc}): choose another with --port", 1)
    err_console.print(f"LATM inspector on http://{host}:{port}/ (Ctrl-C stops it)", markup=False, highlight=False)
    uvicorn.run(make_app(), host=host, port=port, log_level="warning")
