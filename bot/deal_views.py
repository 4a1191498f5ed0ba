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
    header,
    plain,
    section,
    slack_date,
    truncate,
)
from bot.domain.conflicts import RULE_EXPLANATIONS, Rule
from bot.domain.registration import CURRENCIES
from bot.ids import ActionId, ViewId
from bot.mrkdwn import Mrkdwn, escape, join, literal, md
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
    block_id: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str = "",
    label: str | None = None,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label or LABELS.get(block_id, block_id), 2000),
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
    due = (
        md("A channel manager will decide by {}.", slack_date(sla_due_at))
        if sla_due_at
        else literal("")
    )
    if clear:
        headline = literal(":white_check_mark: *Registered — pending approval*")
    elif own_duplicate:
        headline = literal(
            ":information_source: *Your company already has a live registration for this"
            " customer* — a channel manager will review"
        )
    else:
        headline = literal(":warning: *Potential conflict — a channel manager will review*")
    blocks = [
        section(md("{}\n*{}*\n{}", headline, customer, due)),
        context(literal("Follow it with `/deals` or on partnerbot's Home tab.")),
    ]
    return _modal(ViewId.REGISTER_DEAL, "Deal registered", blocks, submit=None)


def _deal_facts(deal: DealRegistration, partner_name: str, registered_by: str) -> Mrkdwn:
    motion = MOTION_LABELS.get(Motion(deal.motion), deal.motion)
    lines = [
        md("*{}* ({}) · {}", deal.customer_company, deal.normalized_domain, partner_name),
        md(
            "{} {:,.2f} · close {} · {} · {}",
            deal.currency,
            deal.estimated_value,
            deal.expected_close_date.isoformat(),
            motion,
            ", ".join(deal.products),
        ),
        # The address as text (Slack links it): never inside `<mailto:…>`, where `|` and `>`
        # would end the link.
        md(
            "Contact: {} · {} · registered by {}",
            deal.contact_name,
            deal.contact_email,
            registered_by,
        ),
    ]
    if deal.notes:
        lines.append(md("_Notes:_ {}", truncate(deal.notes, 1500)))
    return join(lines)


def _verdict_text(deal: DealRegistration) -> Mrkdwn:
    rule = Rule(deal.conflict_rule) if deal.conflict_rule in {r.value for r in Rule} else None
    details = deal.conflict_details or {}
    icon = {"clear": ":large_green_circle:", "review": ":large_yellow_circle:"}.get(
        deal.conflict_verdict or "", ":red_circle:"
    )
    lines = [
        md(
            "{} *{}* — `{}`",
            Mrkdwn(icon),
            (deal.conflict_verdict or "unknown").title(),
            deal.conflict_rule,
        )
    ]
    if rule is not None:
        favours = details.get("favours")
        lines.append(
            md("{} (favours the {} claim)", RULE_EXPLANATIONS[rule], favours)
            if favours
            else escape(RULE_EXPLANATIONS[rule])
        )
    for match in (details.get("matches") or [])[:5]:
        lines.append(md("• {}: {}", match.get("label"), match.get("reason")))
    return join(lines)


def approval_card(deal: DealRegistration, partner_name: str, registered_by: str) -> list[Block]:
    """The deal desk's card: the deal, the verdict and its rule, the SLA, the decision buttons."""
    blocks = [
        header(f"New deal registration #{deal.id}"),
        section(_deal_facts(deal, partner_name, registered_by)),
        section(_verdict_text(deal)),
        context(
            md("Decision due by {}", slack_date(deal.sla_due_at))
            if deal.sla_due_at
            else literal("No SLA")
        ),
        actions(*_decision_buttons(deal)),
    ]
    return blocks


def _decision_buttons(deal: DealRegistration) -> list[dict[str, Any]]:
    """Approve, Decline, Request info, and the button that teaches the matcher: `Not the
    same customer` when the verdict names matching records, `Same customer` when none."""
    value = str(deal.id)
    teach = (
        button("Not the same customer", ActionId.NOT_SAME_CUSTOMER, value)
        if (deal.conflict_details or {}).get("matches")
        else button("Same customer", ActionId.SAME_CUSTOMER, value)
    )
    return [
        button("Approve", ActionId.APPROVE, value, style="primary"),
        button("Decline", ActionId.DECLINE, value, style="danger"),
        button("Request info", ActionId.REQUEST_INFO, value),
        teach,
    ]


def pair_modal(
    deal: DealRegistration, choices: list[tuple[str, str]], *, same: bool, where: dict[str, Any]
) -> dict[str, Any]:
    """`Not the same customer` (tick the records that are other companies) or `Same customer`
    (pick the record that is this customer); `choices` are (value, label)."""
    customer = md("*{}* ({})", deal.customer_company, deal.normalized_domain)
    metadata = {"deal_id": deal.id, **where}
    options = [_option(value, label) for value, label in choices]
    blocks: list[Block] = []
    if same:
        view_id, title = ViewId.SAME_CUSTOMER, "Same customer"
        blocks.append(
            section(
                md("Which record is the same customer as {}? It is flagged from now on.", customer)
            )
        )
        if options:
            blocks.append(
                _input(
                    "records",
                    {"type": "static_select", "options": options[:100]},
                    label="Same customer as",
                    optional=True,
                )
            )
        blocks.append(
            _input(
                "other",
                _text(max_length=253, placeholder="acme.com or #12"),
                label=("Or its" if options else "Its") + " domain or registration number",
                optional=bool(options),
            )
        )
    else:
        view_id, title = ViewId.NOT_SAME_CUSTOMER, "Not the same customer"
        blocks.append(
            section(
                md(
                    "Tick the records that are a different company from {}: they are not"
                    " flagged against it again, either way round.",
                    customer,
                )
            )
        )
        boxes = {"type": "checkboxes", "options": options[:10], "initial_options": options[:10]}
        blocks.append(_input("records", boxes, label="Different companies"))
    return _modal(view_id, title, blocks, submit="Save", metadata=metadata)


def deal_modal(deal: DealRegistration, partner_name: str, registered_by: str) -> dict[str, Any]:
    """A registration opened from a reminder: its facts, verdict, state and, while it waits
    for a decision, the decision buttons."""
    state = md(
        "*{}* · submitted {}", deal.status.replace("_", " ").title(), slack_date(deal.submitted_at)
    )
    if deal.protection_expires_at is not None and deal.status == "approved":
        state = md("{} · protected until {}", state, slack_date(deal.protection_expires_at))
    blocks = [
        section(_deal_facts(deal, partner_name, registered_by)),
        section(_verdict_text(deal)),
        context(md("{} · last activity {}", state, slack_date(deal.last_activity_at))),
    ]
    if deal.status in ("pending", "info_requested"):
        blocks.append(actions(*_decision_buttons(deal)))
    return _modal(ViewId.OPEN_DEAL, f"Registration #{deal.id}", blocks, submit=None)


def decided_card(
    deal: DealRegistration, partner_name: str, registered_by: str, decided_by: str
) -> list[Block]:
    """The card after a decision: who decided and when; no buttons left."""
    if deal.status == "approved" and deal.protection_expires_at:
        until = slack_date(deal.protection_expires_at)
        outcome = md(":white_check_mark: *Approved* by {} · protected until {}", decided_by, until)
    elif deal.status == "declined":
        outcome = md(":x: *Declined* by {}: {}", decided_by, deal.decline_reason or "")
    else:
        outcome = md("*{}* · {}", deal.status.replace("_", " ").title(), decided_by)
    when = slack_date(deal.decided_at or deal.last_activity_at)
    return [
        header(f"Deal registration #{deal.id}"),
        section(_deal_facts(deal, partner_name, registered_by)),
        section(_verdict_text(deal)),
        section(md("{}\n{}", outcome, when)),
    ]


def reason_modal(
    callback_id: ViewId,
    deal_id: int,
    *,
    title: str,
    label: str,
    submit: str,
    block_id: str,
    intro: Mrkdwn | None = None,
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
    until = md("Protected until {}.", slack_date(expires)) if expires else literal("")
    options = [_option(str(days), f"{days} days") for days in choices]
    blocks = [
        section(md("Ask a channel manager for more protection. {}", until)),
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
    until = slack_date(deal.protection_expires_at) if deal.protection_expires_at else escape("?")
    text = md(
        "*{}* asks to extend *{}* by *{} days* (protected until {}; {} extension(s) so far)."
        " Asked by {}.",
        partner_name,
        deal.customer_company,
        extension.days,
        until,
        deal.extension_count,
        requested_by.name,
    )
    if reason:
        text = md("{}\n_Why:_ {}", text, truncate(reason, 1000))
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
            md(
                "{} has a question about your registration for *{}*:\n>{}",
                manager,
                deal.customer_company,
                truncate(question, 2500),
            )
        ),
        actions(button("Answer", ActionId.ANSWER, str(deal.id), style="primary")),
    ]


def pending_queue(rows: list[tuple[DealRegistration, str]], now: datetime) -> list[Block]:
    """Managers' App Home: what waits for a decision, oldest first, with its age against the SLA."""
    if not rows:
        return [section(literal("Nothing is waiting for a decision."))]
    blocks: list[Block] = []
    for deal, partner_name in rows:
        age_hours = (now - deal.submitted_at).total_seconds() / 3600
        late = deal.sla_due_at is not None and deal.sla_due_at < now
        flag = (
            literal(":rotating_light: overdue")
            if late
            else md("due {}", slack_date(deal.sla_due_at))
            if deal.sla_due_at
            else literal("")
        )
        blocks.append(
            section(
                md(
                    "*{}* · {} · {} · {:.0f} h old · {}",
                    deal.customer_company,
                    partner_name,
                    deal.status.replace("_", " "),
                    age_hours,
                    flag,
                )
            )
        )
    return blocks


def recent_decisions(rows: list[tuple[DealRegistration, str]]) -> list[Block]:
    """Managers' App Home: the latest decisions."""
    if not rows:
        return [context(literal("No decisions yet."))]
    lines = [
        md("• *{}* · {} · {} {}", d.customer_company, p, d.status, slack_date(d.decided_at))
        for d, p in rows
        if d.decided_at
    ]
    return [section(join(lines))]
