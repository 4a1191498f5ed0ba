"""The dependencies every transport hands to the domain services, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clock import Clock, system_clock
from bot.domain.access import SlackDirectory
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack import SlackHttp
from bot.tasks import BackgroundTasks
from store.db import Database


@dataclass
class Services:
    """Everything a handler may use; nothing here is created at import time."""

    settings: Settings
    db: Database
    directory: SlackDirectory
    tasks: BackgroundTasks
    metrics: Metrics
    slack_http: SlackHttp
    clock: Clock = field(default=system_clock)  # the one clock the edges read
