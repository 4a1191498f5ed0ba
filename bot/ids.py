"""Every Slack command, action, view and callback id the bot uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class SlashCommand(StrEnum):
    """Slash commands the code handles; slack-manifest.yml must list exactly these."""

    DEALS = "/deals"
    REGISTER_DEAL = "/register-deal"
    ANNOUNCE = "/announce"
    TRAINING = "/training"


class Shortcut(StrEnum):
    """Global shortcut callback ids; slack-manifest.yml must list exactly these."""

    REGISTER_DEAL = "register_deal"


class ActionId(StrEnum):
    """block_actions action ids (a button's value carries the record id)."""

    DEALS_PAGE = "deals_page"
    OPEN_REGISTRATION = "open_registration"
    APPROVE = "deal_approve"
    DECLINE = "deal_decline"
    REQUEST_INFO = "deal_request_info"
    ANSWER = "deal_answer"
    WITHDRAW = "deal_withdraw"
    REQUEST_EXTENSION = "deal_request_extension"
    APPROVE_EXTENSION = "extension_approve"
    DECLINE_EXTENSION = "extension_decline"
    OPEN_DEAL = "deal_open"
    ACKNOWLEDGE = "announcement_ack"
    ASK_QUESTION = "announcement_question"
    VIEW_RECEIPTS = "announcement_receipts"
    ACKNOWLEDGE_RULES = "rules_ack"
    START_TRAINING = "training_start"
    NOT_SAME_CUSTOMER = "customer_not_same"
    SAME_CUSTOMER = "customer_same"


class ViewId(StrEnum):
    """Modal callback ids."""

    REGISTER_DEAL = "register_deal"
    DECLINE_DEAL = "decline_deal"
    REQUEST_INFO = "request_info"
    ANSWER = "answer_question"
    REQUEST_EXTENSION = "request_extension"
    OPEN_DEAL = "open_deal"
    ANNOUNCE = "announce"
    ANNOUNCE_CONFIRM = "announce_confirm"
    ASK_QUESTION = "announcement_question"
    RULES_GATE = "rules_gate"
    TRAINING = "training_page"
    TRAINING_DONE = "training_done"
    NOT_SAME_CUSTOMER = "customer_not_same"
    SAME_CUSTOMER = "customer_same"


class EventType(StrEnum):
    """Events API event types the bot subscribes to."""

    APP_HOME_OPENED = "app_home_opened"
