"""The HTTP API for scripts: `POST /api/answer`, documented at `/api/docs` (OpenAPI).

It takes the same options as `iga ask`, checked by the same function (`assistant.validate`), and
returns the same Answer as `iga ask --json`. The documentation page uses the Swagger UI files
that the fastapi-offline package ships, so it loads nothing from another site.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from assistant.answer import Assistant
from assistant.types import Answer
from assistant.validate import AskRequest, RequestError, ask

SWAGGER_FILES = Path(fastapi_offline.__file__).parent / "static"
DESCRIPTION = """Cited answers from the indexed national imaging guidance, as JSON.

`POST /api/answer` with a JSON body such as `{"question": "Who should chair an imaging network
board?", "k": 5}`. Options are checked as `iga ask` checks them: a bad one is refused with
status 422 and a message saying what to change. When the app is served with `--auth`, sign in
first (`POST /login` with `username` and `password` form fields) and send the cookie it sets.
"""


def api_app(
    assistant: Assistant | None,
    *,
    problem: str | None,
    check_access: Callable[[Request], None],
) -> FastAPI:
    """Return the API app, to mount at /api."""
    api = FastAPI(
        title="Imaging Guidance Assistant API",
        version=version("imaging-guidance-assistant"),
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.mount("/docs-files", StaticFiles(directory=SWAGGER_FILES), name="docs-files")

    @api.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="Imaging Guidance Assistant API",
            swagger_js_url=f"{root}/docs-files/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs-files/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs-files/favicon.png",
        )

    @api.post(
        "/answer",
        response_model=Answer,
        responses={422: {"description": "An option the assistant cannot take, and why."}},
    )
    def answer(body: AskRequest, request: Request) -> Answer:
        """Answer a question from the indexed guidance, citing document, page and date."""
        check_access(request)
        if assistant is None:
            raise HTTPException(status_code=503, detail=problem or "No index is loaded.")
        try:
            return ask(assistant, body)
        except RequestError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None

    return api
