"""create_app(settings): everything is built here, nothing at import time."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from servicepoint.assistant import actions as assistant_actions
from servicepoint.casework import uploads as casework_uploads
from servicepoint.config import PACKAGE_DIR, Settings
from servicepoint.core.broadcast import make_broadcaster
from servicepoint.core.db import make_engine, make_sessionmaker
from servicepoint.core.ratelimit import make_rate_limiter
from servicepoint.core.templating import build_env
from servicepoint.web import errors as web_errors
from servicepoint.web import openapi as web_openapi
from servicepoint.web.input_guard import InputGuardMiddleware
from servicepoint.web.middleware import (
    InFlightLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from servicepoint.web.warmup import warm_up

# Only our own origin: vendored JS/CSS, no third-party requests. Leaflet sets inline styles.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


def _routers(app: FastAPI) -> None:
    from servicepoint.account import pages as account_pages
    from servicepoint.appointment import api as appointment_api
    from servicepoint.appointment import pages as appointment_pages
    from servicepoint.appointment import queue_pages
    from servicepoint.assistant import api as assistant_api
    from servicepoint.assistant import pages as assistant_pages
    from servicepoint.casework import api as casework_api
    from servicepoint.casework import pages as casework_pages
    from servicepoint.casework import staff_pages as casework_staff_pages
    from servicepoint.casework import verify_pages as casework_verify_pages
    from servicepoint.catalog import admin_pages as catalog_admin_pages
    from servicepoint.catalog import api as catalog_api
    from servicepoint.catalog import pages as catalog_pages
    from servicepoint.consultation import pages as consultation_pages
    from servicepoint.consultation import staff_pages as consultation_staff_pages
    from servicepoint.consultation import ws as consultation_ws
    from servicepoint.planning import mobile_pages as planning_mobile_pages
    from servicepoint.planning import pages as planning_pages
    from servicepoint.web import legal as legal_pages
    from servicepoint.web import pages as web_pages

    modules = (
        web_pages,
        legal_pages,
        catalog_api,
        catalog_pages,
        catalog_admin_pages,
        account_pages,
        appointment_api,
        appointment_pages,
        queue_pages,
        assistant_api,
        assistant_pages,
        planning_pages,
        planning_mobile_pages,
        casework_api,
        casework_pages,
        casework_verify_pages,
        casework_staff_pages,
        consultation_staff_pages,
        consultation_pages,
        consultation_ws,
    )
    app.include_router(web_pages.health_router)
    for module in modules:
        app.include_router(module.router)


class ServicePointApp(FastAPI):
    """FastAPI with the security headers outside everything, Starlette's error layer included."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(super().build_middleware_stack(), csp=CSP)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        warm_up(settings, _app.state.sessionmaker)
        from servicepoint.planning import jobs as planning_jobs

        # Planning scenarios and mobile plans run beside the requests, never in one.
        jobs_thread = planning_jobs.start_thread(_app.state.sessionmaker, settings)
        _app.state.jobs_thread = jobs_thread
        # Everything loaded at start-up lives as long as the process: keep it out of the
        # garbage collector's full passes, which otherwise stall requests for tens of ms.
        gc.collect()
        gc.freeze()
        yield
        if jobs_thread is not None:
            jobs_thread.stop()
        from servicepoint.consultation import hub

        hub.shutdown(_app)  # the video publishers' threads
        engine.dispose()

    app = ServicePointApp(
        title=settings.site_name, version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.templates = build_env()
    app.state.rate_limiter = make_rate_limiter(settings.redis_url)
    app.state.broadcaster = make_broadcaster(settings.redis_url)
    app.state.rephraser = assistant_actions.rephraser(settings)
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "web" / "static"), name="static")
    web_errors.install(app)
    _routers(app)
    web_openapi.install(app)
    app.add_middleware(InFlightLimitMiddleware, limit=settings.max_in_flight)
    # Inside the context (language, size limit, headers), outside the in-flight limit: a slow
    # upload must not hold one of the few request places while its body is read and checked.
    app.add_middleware(InputGuardMiddleware)

    app.add_middleware(
        RequestContextMiddleware,
        max_body=settings.max_body_bytes,
        multipart_limits=casework_uploads.multipart_limits(settings),
        default_lang=settings.default_lang,
        secret_key=settings.secret_key,
        secure_cookies=settings.secure_cookies,
    )
    if settings.trusted_proxies:  # the one place the client's address is decided (serve: off)
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
