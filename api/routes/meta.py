"""Offline API docs and the problem-type pages that every error's `type` points at."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

from api.errors import PROBLEM_TYPES, NotFound, problem_type
from api.problems import problem_responses
from api.schemas.common import ProblemType

router = APIRouter(include_in_schema=False)
problems_router = APIRouter(tags=["operations"])

STATIC = "/static"
# The docs pages may load nothing from outside this server; the browser enforces it.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'none'"
)


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return _offline(
        get_swagger_ui_html(
            openapi_url=str(request.app.openapi_url),
            title=f"{request.app.title} - docs",
            swagger_js_url=f"{STATIC}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            # validatorUrl=None stops Swagger UI from calling validator.swagger.io.
            swagger_ui_parameters={
                "persistAuthorization": True,
                "validatorUrl": None,
                "displayRequestDuration": True,
                "tryItOutEnabled": True,
            },
        )
    )


@router.get("/docs/oauth2-redirect")
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return _offline(
        get_redoc_html(
            openapi_url=str(request.app.openapi_url),
            title=f"{request.app.title} - reference",
            redoc_js_url=f"{STATIC}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
    )


@problems_router.get(
    "/problems/{slug}",
    summary="What an error `type` means",
    description=(
        "Public. `slug` is the last part of a problem's `type` "
        "(`/problems/screening-required` -> `screening-required`); the answer gives the full "
        "`type` and what it means. An unknown slug is 404."
    ),
    responses=problem_responses(404),
)
async def describe_problem(slug: str) -> ProblemType:
    if slug not in PROBLEM_TYPES:
        raise NotFound(f"no problem type {slug!r}")
    return ProblemType(type=problem_type(slug), description=PROBLEM_TYPES[slug])
