"""The web console: the files Vite builds (`make console`) served at `/`.

The folder is `ServerSettings.console_dir`, else `$FUSTGO_CONSOLE_DIR`, else `console/` next
to this module (where `web/vite.config.ts` builds to, and what a wheel carries). It is looked
up on every request, so a console built while the server runs is served without a restart.

Routing: the API, `/health` and `/metrics` are never the console's; an unknown path under
them keeps its JSON 404. Any other GET is a file of the build when one matches (hashed
`assets/` cached for a year, the rest revalidated), else `index.html`, so client-side routes
(`/jobs/abc`, `/designer/x`) load the app on a reload or a deep link. Without a build, those
paths answer a small page that says how to build it.
"""

from __future__ import annotations

import html
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

CONSOLE_DIR_ENV = "FUSTGO_CONSOLE_DIR"
PACKAGED_CONSOLE = Path(__file__).parent / "console"
RESERVED_PREFIXES = ("api", "health", "metrics")
"""First path segments that belong to the server, never to the console."""
IMMUTABLE = "public, max-age=31536000, immutable"
"""`assets/` files are named by their content hash: a new build gives new names."""
REVALIDATE = "no-cache"

Handler = Callable[[Request, Exception], Awaitable[Response]]


def console_dir(configured: Path | None = None) -> Path:
    """The folder the console is served from (it may not exist, or hold no build)."""
    if configured is not None:
        return configured
    from_env = os.environ.get(CONSOLE_DIR_ENV)
    return Path(from_env) if from_env else PACKAGED_CONSOLE


def is_built(folder: Path) -> bool:
    return (folder / "index.html").is_file()


def install_console(app: FastAPI, configured: Path | None = None) -> None:
    """Serve the console at `/` and as the fallback of unmatched GETs.

    Call after `install_error_handlers`: unmatched paths reach the router's 404, whose JSON
    handler this wraps; everything but a console path still gets that JSON."""
    json_not_found: Handler = app.exception_handlers[StarletteHTTPException]

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return _serve(console_dir(configured), "", root=True)

    async def on_not_found(request: Request, exc: Exception) -> Response:
        path = request.url.path.lstrip("/")
        if (
            request.method not in ("GET", "HEAD")
            or not isinstance(exc, StarletteHTTPException)
            or exc.detail != "Not Found"  # raised by an endpoint, not "no such route"
            or path.split("/", 1)[0] in RESERVED_PREFIXES
        ):
            return await json_not_found(request, exc)
        return _serve(console_dir(configured), path, root=False)

    app.add_exception_handler(404, on_not_found)


def _serve(folder: Path, path: str, *, root: bool) -> Response:
    if not is_built(folder):
        return not_built_page(folder, status_code=200 if root else 404)
    if path:
        found = _file_under(folder, path)
        if found is not None:
            cache = IMMUTABLE if path.startswith("assets/") else REVALIDATE
            return FileResponse(found, headers={"Cache-Control": cache})
        if path.startswith("assets/"):
            # A stale hashed name (an old tab after a new build): HTML would not parse as JS.
            return Response("Not found", status_code=404, media_type="text/plain")
    return FileResponse(folder / "index.html", headers={"Cache-Control": REVALIDATE})


def _file_under(folder: Path, path: str) -> Path | None:
    """The file `path` names inside `folder`; None when missing or outside it."""
    root = folder.resolve()
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def not_built_page(folder: Path, *, status_code: int = 200) -> HTMLResponse:
    """What `/` shows when there is no build to serve."""
    where = html.escape(str(folder))
    body = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>FustGo: console not built</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;
padding:0 1rem;line-height:1.5;color:#1f1f1f}}code{{background:#f3f3f3;padding:0 .25rem}}</style>
</head>
<body>
<h1>The FustGo web console is not built</h1>
<p>No <code>index.html</code> in <code>{where}</code>.</p>
<p>Build it from the repository with <code>make console</code> (Node.js 20 or newer), or
start the server with <code>make run</code>, which builds it first. To serve a build
from another folder, set <code>{CONSOLE_DIR_ENV}</code>.</p>
<p>The REST API works without it: <a href="/api/v1/docs">API docs at /api/v1/docs</a>.</p>
</body>
</html>
"""
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": REVALIDATE})
