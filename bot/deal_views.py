"""Block Kit for deal registration: the modal, its result, approval cards, decision modals."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.blocks import (
    MODAL_TITLE_LIMIT,
    Block,
    actions,
    button,
    context,
    escape,
    header,
    plain,
    section,
    slack_date,
    truncate,
)
from bot.domain.conflicts import RULE_EXPLANATIONS, Rule
from bot.domain.registration import CURRENCIES
from bot.ids import ActionId, ViewId
from store.models import DealExtension, DealRegistration, Motion, Person

MOTION_LABELS = {Motion.RESALE: "Resale", Motion.REFERRAL: "Referral", Motion.CO_SELL: "Co-sell"}
# DESIGN.md "Public surface": these labels are a contract.
LABELS = {
    "customer_company": "Customer company",
    "customer_domain": "Customer domain",
    "contact_name": "Contact name",
    "contact_email": "Contact email",
    "estimated_value": "Estimated value",
    "currency": "Currency",
    "expected_close_date": "Expected close date",
    "products": "Products",
    "motion": "Motion",
    "notes": "Notes",
}


def _option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": plain(text or value, 75), "value": value[:150]}


def _input(
    block_id: str, element: dict[str, Any], *, optional: bool = False, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(LABELS.get(block_id, block_id), 2000),
        "element": {**element, "action_id": "value"},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _text(
    initial: str = "", *, multiline: bool = False, placeholder: str = "", max_length: int = 200
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    return element


def _modal(
    callback_id: str,
    title: str,
    blocks: list[Block],
    *,
    submit: str | None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MODAL_TITLE_LIMIT),
        "close": plain("Cancel" if submit else "Close", MODAL_TITLE_LIMIT),
        "blocks": blocks,
    }
    if submit:
        view["submit"] = plain(submit, MODAL_TITLE_LIMIT)
    if metadata is not None:
        view["private_metadata"] = json.dumps(metadata)[:3000]
    return view


def registration_modal(products: list[str], *, prefill: str = "") -> dict[str, Any]:
    """The registration modal; `prefill` (`/register-deal acme.com`) fills domain or company."""
    prefill = prefill.strip()
    looks_like_domain = bool(prefill) and " " not in prefill and "." in prefill
    if products:
        product_element = {
            "type": "multi_static_select",
            "placeholder": plain("Pick products", 150),
            "options": [_option(p) for p in products[:100]],
        }
    else:
        product_element = _text(placeholder="Comma-separated product names")
    blocks = [
        _input(
            "customer_company", _text("" if looks_like_domain else prefill, placeholder="Acme Corp")
        ),
        _input(
            "customer_domain",
            _text(prefill if looks_like_domain else "", placeholder="acme.com", max_length=253),
            hint="The customer's web domain; a URL or an email address works too.",
        ),
        _input("contact_name", _text(placeholder="Jane Doe")),
        _input("contact_email", _text(placeholder="jane@acme.com", max_length=320)),
        _input("estimated_value", _text(placeholder="25000", max_length=30)),
        _input(
            "currency",
            {
                "type": "static_select",
                "options": [_option(c) for c in CURRENCIES],
                "initial_option": _option("USD"),
            },
        ),
        _input("expected_close_date", {"type": "datepicker"}),
        _input("products", product_element),
        _input(
            "motion",
            {
                "type": "static_select",
                "options": [_option(m.value, label) for m, label in MOTION_LABELS.items()],
                "initial_option": _option(Motion.RESALE.value, "Resale"),
            },
        ),
        _input(
            "notes",
            _text(
                multiline=True,
                placeholder="Proof of work: meetings, demos, the customer's need",
                max_length=3000,
            ),
            optional=True,
        ),
    ]
    return _modal(ViewId.REGISTER_DEAL, "Register a deal", blocks, submit="Register")


def read_registration(values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The submitted form's raw values, whatever element each input used."""

    def get(block_id: str) -> Any:
        element = (values.get(block_id) or {}).get("value") or {}
        if "selected_options" in element:
            return [option["value"] for option in element["selected_options"] or []]
        if "selected_option" in element:
            return (element["selected_option"] or {}).get("value", "")
        if "selected_date" in element:
            return element["selected_date"] or ""
        return element.get("value") or ""

    raw = {name: get(name) for name in LABELS}
    if isinstance(raw["products"], str):
        raw["products"] = [p.strip() for p in raw["products"].split(",") if p.strip()]
    return raw


def registration_result(
    *, clear: bool, own_duplicate: bool, sla_due_at: datetime | None, customer: str
) -> dict[str, Any]:
    """What the partner sees after submitting: never who holds the customer, nor their data."""
    due = f"A channel manager will decide by {slack_date(sla_due_at)}." if sla_due_at else ""
    if clear:
        headline = ":white_check_mark: *Registered — pending approval*"
    elif own_duplicate:
        headline = (
            ":information_source: *Your company already has a live registration for this"
            " customer* — a channel manager will review"
        )
    else:
        headline = ":warning: *Potential conflict — a channel manager will review*"
    blocks = [
        section(f"{headline}\n*{escape(customer)}*\n{due}"),
        context("Follow it with `/deals` or on partnerbot's Home tab."),
    ]
    return _modal(ViewId.REGISTER_DEAL, "Deal registered", blocks, submit=None)


def _deal_facts(deal: DealRegistration, partner_name: str, registered_by: str) -> str:
    products = ", ".join(deal.products)
    lines = [
        f"*{escape(deal.customer_company)}* ({escape(deal.normalized_domain)})"
        f" · {escape(partner_name)}",
        f"{deal.currency} {deal.estimated_value:,.2f}"
        f" · close {deal.expected_close_date.isoformat()}"
        f" · {MOTION_LABELS.get(Motion(deal.motion), deal.motion)} · {escape(products)}",
        f"Contact: {escape(deal.contact_name)}"
        f" <mailto:{deal.contact_email}|{escape(deal.contact_email)}>"
        f" · registered by {escape(registered_by)}",
    ]
    if deal.notes:
        lines.append(f"_Notes:_ {escape(truncate(deal.notes, 1500))}")
    return "\n".join(lines)


def _verdict_text(deal: DealRegistration) -> str:
    rule = Rule(deal.conflict_rule) if deal.conflict_rule in {r.value for r in Rule} else None
    details = deal.conflict_details or {}
    icon = {"clear": ":large_green_circle:", "review": ":large_yellow_circle:"}.get(
        deal.conflict_verdict or "", ":red_circle:"
    )
    lines = [f"{icon} *{(deal.conflict_verdict or 'unknown').title()}* — `{deal.conflict_rule}`"]
    if rule is not None:
        lines.append(
            RULE_EXPLANATIONS[rule]
            + (f" (favours the {details.get('favours')} claim)" if details.get("favours") else "")
        )
    for match in (details.get("matches") or [])[:5]:
        lines.append(f"• {escape(str(match.get('label')))}: {match.get('reason')}")
    return truncate("\n".join(lines), 3000)


def approval_card(deal: DealRegistration, partner_name: str, registered_by: str) -> list[Block]:
    """The deal desk's card: the deal, the verdict and its rule, the SLA, the decision buttons."""
    value = str(deal.id)
    blocks = [
        header(f"New deal registration #{deal.id}"),
        section(_deal_facts(deal, partner_name, registered_by)),
        section(_verdict_text(deal)),
        context(f"Decision due by {slack_date(deal.sla_due_at)}" if deal.sla_due_at else "No SLA"),
        actions(
            button("Approve", ActionId.APPROVE, value, style="primary"),
            button("Decline", ActionId.DECLINE, value, style="danger"),
            button("Request info", ActionId.REQUEST_INFO, value),
        ),
    ]
    return blocks


def decided_card(
    deal: DealRegistration, partner_name: str, registered_by: str, decided_by: str
) -> list[Block]:
    """The card after a decision: who decided and when; no buttons left."""
    if deal.status == "approved" and deal.protection_expires_at:
        until = slack_date(deal.protection_expires_at)
        outcome = f":white_check_mark: *Approved* by {escape(decided_by)} · protected until {until}"
    elif deal.status == "declined":
        outcome = f":x: *Declined* by {escape(decided_by)}: {escape(deal.decline_reason or '')}"
    else:
        outcome = f"*{deal.status.replace('_', ' ').title()}* · {escape(decided_by)}"
    when = slack_date(deal.decided_at or deal.last_activity_at)
    return [
        header(f"Deal registration #{deal.id}"),
        section(_deal_facts(deal, partner_name, registered_by)),
        section(_verdict_text(deal)),
        section(f"{outcome}\n{when}"),
    ]


def reason_modal(
    callback_id: ViewId,
    deal_id: int,
    *,
    title: str,
    label: str,
    submit: str,
    block_id: str,
    intro: str = "",
) -> dict[str, Any]:
    """A one-question modal (decline reason, question to the partner, the partner's answer)."""
    blocks: list[Block] = [section(intro)] if intro else []
    blocks.append(
        {
            "type": "input",
            "block_id": block_id,
            "label": plain(label, 2000),
            "element": {**_text(multiline=True, max_length=2000), "action_id": "value"},
        }
    )
    return _modal(callback_id, title, blocks, submit=submit, metadata={"deal_id": deal_id})


def extension_modal(deal_id: int, choices: list[int], expires: datetime | None) -> dict[str, Any]:
    """The partner picks how many more days of protection to ask for."""
    until = f"Protected until {slack_date(expires)}." if expires else ""
    options = [_option(str(days), f"{days} days") for days in choices]
    blocks = [
        section(f"Ask a channel manager for more protection. {until}"),
        {
            "type": "input",
            "block_id": "days",
            "label": plain("Extend by", 2000),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": options,
                "initial_option": options[0],
            },
        },
        {
            "type": "input",
            "block_id": "reason",
            "optional": True,
            "label": plain("Why", 2000),
            "element": {**_text(multiline=True, max_length=1000), "action_id": "value"},
        },
    ]
    return _modal(
        ViewId.REQUEST_EXTENSION,
        "Request extension",
        blocks,
        submit="Request",
        metadata={"deal_id": deal_id},
    )


def extension_card(
    deal: DealRegistration,
    partner_name: str,
    extension: DealExtension,
    requested_by: Person,
    reason: str,
) -> list[Block]:
    """The deal desk's card for an extension request."""
    until = slack_date(deal.protection_expires_at) if deal.protection_expires_at else "?"
    text = (
        f"*{escape(partner_name)}* asks to extend *{escape(deal.customer_company)}*"
        f" by *{extension.days} days* (protected until {until};"
        f" {deal.extension_count} extension(s) so far). Asked by {escape(requested_by.name)}."
    )
    if reason:
        text += f"\n_Why:_ {escape(truncate(reason, 1000))}"
    value = str(extension.id)
    return [
        section(text),
        actions(
            button("Approve", ActionId.APPROVE_EXTENSION, value, style="primary"),
            button("Decline", ActionId.DECLINE_EXTENSION, value, style="danger"),
        ),
    ]


def question_dm(deal: DealRegistration, manager: str, question: str) -> list[Block]:
    """The partner's DM with a manager's question and the button to answer it."""
    return [
        section(
            f"{escape(manager)} has a question about your registration for"
            f" *{escape(deal.customer_company)}*:\n>{escape(truncate(question, 2500))}"
        ),
        actions(button("Answer", ActionId.ANSWER, str(deal.id), style="primary")),
    ]


def pending_queue(rows: list[tuple[DealRegistration, str]], now: datetime) -> list[Block]:
    """Managers' App Home: what waits for a decision, oldest first, with its age against the SLA."""
    if not rows:
        return [section("Nothing is waiting for a decision.")]
    blocks: list[Block] = []
    for deal, partner_name in rows:
        age_hours = (now - deal.submitted_at).total_seconds() / 3600
        late = deal.sla_due_at is not None and deal.sla_due_at < now
        flag = (
            ":rotating_light: overdue"
            if late
            else f"due {slack_date(deal.sla_due_at)}"
            if deal.sla_due_at
            else ""
        )
        blocks.append(
            section(
                f"*{escape(deal.customer_company)}* · {escape(partner_name)} · "
                f"{deal.status.replace('_', ' ')} · {age_hours:.0f} h old · {flag}"
            )
        )
    return blocks


def recent_decisions(rows: list[tuple[DealRegistration, str]]) -> list[Block]:
    """Managers' App Home: the latest decisions."""
    if not rows:
        return [context("No decisions yet.")]
    lines = [
        f"• *{escape(d.customer_company)}* · {escape(p)} · {d.status} {slack_date(d.decided_at)}"
        for d, p in rows
        if d.decided_at
    ]
    return [section("\n".join(lines))]
