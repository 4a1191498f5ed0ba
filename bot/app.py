"""The app factory: `build_app(settings)` wires every dependency; nothing happens at import."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from bot.clock import Clock, system_clock
from bot.context import Services
from bot.domain.access import SlackDirectory
from bot.handlers import register_all
from bot.mail.inbound import MailContext
from bot.mail.outbound import Outbox
from bot.mail.smtp import SmtpMailer
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack import SlackHttp, SlackWebDirectory, build_web_client
from bot.tasks import BackgroundTasks
from bot.web import build_asgi
from store.db import Database


@dataclass
class PartnerBot:
    """The built application: the Bolt app (None until Slack is configured) and the ASGI app."""

    services: Services
    bolt: AsyncApp | None
    asgi: Starlette
    web_client: AsyncWebClient

    async def start(self) -> None:
        """Open long-lived connections (call inside the event loop, before serving)."""
        await self.services.slack_http.start()

    async def aclose(self) -> None:
        """Finish background work, then close Slack connections and the database pool."""
        await self.services.tasks.drain()
        await self.services.slack_http.close()
        await self.services.db.dispose()


def build_app(
    settings: Settings,
    *,
    db: Database | None = None,
    directory: SlackDirectory | None = None,
    clock: Clock = system_clock,
) -> PartnerBot:
    """Build partnerbot from settings; tests pass their own database, directory or clock."""
    web_client = build_web_client(settings)
    services = Services(
        settings=settings,
        db=db or Database(settings.database_url),
        directory=directory or SlackWebDirectory(web_client),
        tasks=BackgroundTasks(),
        metrics=Metrics(),
        slack_http=SlackHttp(
            web_client,
            messages_per_minute=settings.slack_messages_per_minute,
            per_channel_seconds=settings.slack_channel_post_seconds,
        ),
        clock=clock,
    )
    bolt = None
    if settings.slack_configured:
        secret = settings.slack_signing_secret
        bolt = AsyncApp(
            client=web_client,
            signing_secret=secret.get_secret_value() if secret else "",
            # The HTTP endpoint verifies signatures before parsing; Socket Mode needs none.
            request_verification_enabled=False,
            # Listeners answer in the ack and hand slow work (Slack calls, CRM, mail) to
            # services.tasks, so Bolt needs no 10 ms ack-polling loop per request.
            process_before_response=True,
        )
        register_all(bolt, services)
    return PartnerBot(
        services=services, bolt=bolt, asgi=build_asgi(services, bolt), web_client=web_client
    )


def mail_context(settings: Settings, db: Database, clock: Clock) -> MailContext:
    """The inbound pipeline's context; refusals are mailed when SMTP is configured."""
    mailer = SmtpMailer(settings) if settings.smtp_host and settings.mail_from else None
    outbox = Outbox(db, settings, mailer) if mailer else None
    return MailContext(db, settings, clock, mail_outbox=outbox)
