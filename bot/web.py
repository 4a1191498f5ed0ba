"""The ASGI app: `POST /slack/events`, `GET /healthz`, `GET /metrics`."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import __version__
from bot.context import Services
from bot.payloads import listener_name

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]

MAX_SLACK_BODY = 1 << 20  # Slack's payloads are a few KiB; a modal's state stays far below
SIGNATURE_WINDOW = 300  # seconds: Slack's own replay window
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class BodyTooLarge(Exception):
    """The request body is over the limit (refused before it is buffered)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read as it streams in and refused as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def signed_by_slack(secret: bytes, raw: bytes, timestamp: str, signature: str, now: float) -> bool:
    """Slack's v0 signature over the raw bytes (whatever their encoding), within the window."""
    if not _TIMESTAMP.fullmatch(timestamp) or abs(now - int(timestamp)) > SIGNATURE_WINDOW:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _timed(services: Services, route: str, endpoint: Endpoint) -> Endpoint:
    async def timed(request: Request) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await endpoint(request)
            status = response.status_code
            return response
        finally:
            services.metrics.http_requests.labels(route, str(status)).inc()
            services.metrics.http_seconds.labels(route).observe(time.perf_counter() - started)

    return timed


def _slack_endpoint(services: Services, bolt: AsyncApp | None) -> Endpoint:
    settings, metrics = services.settings, services.metrics
    secret = settings.slack_signing_secret
    key = secret.get_secret_value().encode() if secret else None

    async def slack_events(request: Request) -> Response:
        if bolt is None or key is None:
            missing = settings.missing_slack_settings() or ["PARTNERBOT_SLACK_SIGNING_SECRET"]
            return JSONResponse({"error": "slack_not_configured", "set": missing}, status_code=503)
        try:
            raw = await read_body(request, MAX_SLACK_BODY)
        except BodyTooLarge:
            log.warning("refused a Slack request over %d bytes", MAX_SLACK_BODY)
            return JSONResponse({"error": "payload_too_large"}, status_code=413)
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        if not signed_by_slack(key, raw, timestamp, signature, time.time()):
            log.warning("rejected a Slack request with a bad or stale signature")
            return JSONResponse({"error": "invalid_signature"}, status_code=401)
        try:
            payload = parse_body(raw.decode("utf-8"), request.headers.get("content-type"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # JSON errors: ValueError
            log.warning(
                "rejected a signed Slack request with a malformed body: %s", type(exc).__name__
            )
            return JSONResponse({"error": "malformed_payload"}, status_code=400)
        if not isinstance(payload, dict) or not payload:
            log.warning("rejected a signed Slack request whose payload is not an object")
            return JSONResponse({"error": "malformed_payload"}, status_code=400)
        # Bolt parses the body again (cheap); it only accepts raw text over HTTP.
        bolt_request = to_async_bolt_request(request, raw)
        listener, started = listener_name(payload), time.perf_counter()
        bolt_response = await bolt.async_dispatch(bolt_request)
        metrics.slack_requests.labels(listener, str(bolt_response.status)).inc()
        metrics.slack_ack_seconds.labels(listener).observe(time.perf_counter() - started)
        return to_starlette_response(bolt_response)

    return slack_events


def _health_endpoint(services: Services) -> Endpoint:
    async def healthz(request: Request) -> Response:
        body: dict[str, object] = {
            "version": __version__,
            "slack": services.settings.slack_configured,
        }
        try:
            await services.db.ping()
        except Exception as exc:  # any failure means unhealthy; say which kind
            log.error("health check: database unreachable: %s", type(exc).__name__)
            body.update(status="unhealthy", database=f"error: {type(exc).__name__}")
            return JSONResponse(body, status_code=503)
        body.update(status="ok", database="ok")
        return JSONResponse(body)

    return healthz


def _metrics_endpoint(services: Services) -> Endpoint:
    async def metrics(request: Request) -> Response:
        return Response(services.metrics.render(), media_type=services.metrics.content_type)

    return metrics


def build_asgi(services: Services, bolt: AsyncApp | None) -> Starlette:
    """The Starlette app serving Slack, health and metrics."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.slack_http.start()
        yield
        await services.tasks.drain()
        await services.slack_http.close()
        await services.db.dispose()

    def route(path: str, endpoint: Endpoint, methods: list[str]) -> Route:
        return Route(path, _timed(services, path, endpoint), methods=methods)

    routes = [
        route("/slack/events", _slack_endpoint(services, bolt), ["POST"]),
        route("/healthz", _health_endpoint(services), ["GET"]),
        route("/metrics", _metrics_endpoint(services), ["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
