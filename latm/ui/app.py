"""The inspector's web app: starlette routes over the tool cache, opened per request (the cache is
read as it is now, and writers are never locked out for longer than one read)."""

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from latm.ui import pages
from toolcache import ToolCache, ToolCacheError


def make_app(cache_dir: str | Path | None = None) -> Starlette:
    """The inspector of the cache at ``cache_dir`` (default: LATM_CACHE_DIR, else the user's cache)."""

    def opened() -> ToolCache:
        return ToolCache(cache_dir)

    def index(request: Request) -> HTMLResponse:
        with opened() as cache:
            tools = cache.list()
            current = {t.id for t in (cache.current(task) for task in cache.tasks()) if t is not None}
        return HTMLResponse(pages.index(tools, current))

    def tool(request: Request) -> HTMLResponse:
        ref = request.path_params["ref"]
        with opened() as cache:
            try:
                found = cache.get(ref)
                history = cache.history(found.task)
                recent = cache.recent_failures(found.id)
            except (ToolCacheError, KeyError):
                return HTMLResponse(pages.missing(ref), status_code=404)
        return HTMLResponse(pages.tool_page(found, history, recent))

    return Starlette(routes=[Route("/", index), Route("/tool/{ref}", tool)])
