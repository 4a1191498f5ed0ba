"""partnerbot: a Slack- and email-first partner collaboration bot."""

__version__ = "0.1.0"
