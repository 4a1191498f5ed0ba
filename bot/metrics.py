"""Prometheus metrics: request counts and latencies per Slack listener and per HTTP route."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0, 10.0)


class Metrics:
    """One registry per app, so several apps (tests, benchmarks) never collide."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.slack_requests = Counter(
            "partnerbot_slack_requests",
            "Slack requests by listener and outcome.",
            ["listener", "outcome"],
            registry=self.registry,
        )
        self.slack_ack_seconds = Histogram(
            "partnerbot_slack_ack_seconds",
            "Time from receiving a Slack request to acknowledging it, by listener.",
            ["listener"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.http_requests = Counter(
            "partnerbot_http_requests",
            "HTTP requests by route and status code.",
            ["route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "partnerbot_http_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
