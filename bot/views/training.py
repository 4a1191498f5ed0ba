"""Training in Slack: the module list (`/training`, App Home), a module as a modal (content
over as many pages as it needs, then the quiz), results, and the DMs that carry `Start
training`. The right answers never leave the server: nothing here is given them."""

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
    divider,
    header,
    notice_modal,
    paragraphs,
    plain,
    section,
    slack_date,
)
from bot.domain.training import ModuleStatus
from bot.ids import ActionId, ViewId
from bot.mrkdwn import Mrkdwn, authored, from_markdown, join, literal, md
from store.models import TrainingModule

SUBJECT = "training"  # notifications about a module carry ("training", module id)
SECTION = 2900
PAGE_SECTIONS = 3  # content sections per modal page (~9,000 characters)
LIST_LIMIT = 40  # modules listed in a message (two blocks each)


def module_facts(module: TrainingModule) -> dict[str, Any]:
    """What showing or mailing a module needs — its quiz without the answers."""
    return {
        "module_id": module.id,
        "title": module.title,
        "path": module.learning_path,
        "content": module.content,
        "questions": [
            {"question": q["question"], "choices": list(q["choices"])} for q in module.quiz
        ],
        "pass_mark": round(module.pass_mark * 100),
        "certification": module.certification,
        "valid_days": module.certification_valid_days,
        "products": list(module.products),
        "version": module.updated_at.isoformat(),
    }


def content_pages(content: str) -> list[list[str]]:
    """The content's sections, grouped into modal pages."""
    chunks = paragraphs(from_markdown(content), SECTION) or [""]
    return [chunks[at : at + PAGE_SECTIONS] for at in range(0, len(chunks), PAGE_SECTIONS)]


def _question_block(number: int, question: dict[str, Any]) -> Block:
    options = [
        {"text": plain(choice, 75), "value": str(n)}
        for n, choice in enumerate(question["choices"], start=1)
    ]
    return {
        "type": "input",
        "block_id": f"q{number}",
        "label": plain(f"{number}. {question['question']}", 2000),
        "element": {"type": "radio_buttons", "action_id": "answer", "options": options},
    }


def module_modal(facts: dict[str, Any], page: int = 1) -> dict[str, Any]:
    """Page `page` of a module: its content and, on the last page, the quiz. `Next` moves on
    a page; `Submit` sends the answers (graded on the server)."""
    pages = content_pages(str(facts["content"]))
    page = max(1, min(page, len(pages)))
    last = page == len(pages)
    blocks: list[Block] = []
    if page == 1:
        blocks.append(header(str(facts["title"])))
    if len(pages) > 1:
        blocks.append(context(md("Page {} of {}", page, len(pages))))
    blocks += [section(authored(chunk)) for chunk in pages[page - 1] if chunk.strip()]
    if last:
        needed = md("{}% right to pass", facts["pass_mark"])
        if facts.get("certification"):
            needed = md(
                "{} · passing makes you *{}* for {} days",
                needed,
                facts["certification"],
                facts["valid_days"],
            )
        blocks += [divider(), header("Quiz"), context(needed)]
        blocks += [_question_block(n, q) for n, q in enumerate(facts["questions"], start=1)]
    return {
        "type": "modal",
        "callback_id": ViewId.TRAINING,
        "title": plain("Training", MODAL_TITLE_LIMIT),
        "submit": plain("Submit" if last else "Next", MODAL_TITLE_LIMIT),
        "close": plain("Cancel", MODAL_TITLE_LIMIT),
        "private_metadata": json.dumps(
            {"module_id": facts["module_id"], "page": page, "version": facts["version"]}
        ),
        "blocks": blocks[:100],
    }


def read_answers(values: dict[str, dict[str, dict[str, Any]]]) -> dict[int, int]:
    """The choices picked in the quiz (question → choice number), as Slack sent them; the
    domain checks they fit the quiz."""
    answers: dict[int, int] = {}
    for block_id, elements in values.items():
        picked = ((elements or {}).get("answer") or {}).get("selected_option") or {}
        if not block_id.startswith("q") or not block_id[1:].isdigit() or not picked:
            continue
        value = str(picked.get("value", ""))
        answers[int(block_id[1:])] = int(value) if value.isdigit() and len(value) < 3 else 0
    return answers


def _until(moment: str | datetime | None) -> Mrkdwn:
    if moment is None:
        return literal("?")
    at = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return slack_date(at)


def _wrong(numbers: list[int]) -> Mrkdwn:
    listed = ", ".join(str(n) for n in numbers)
    return md("Question {} {} not right.", listed, "was" if len(numbers) == 1 else "were")


def result_text(result: dict[str, Any]) -> Mrkdwn:
    """What a graded quiz came to (never the right answers)."""
    score = md(
        "{} of {} right ({}%; {}% needed).",
        result["right"],
        result["total"],
        result["percent"],
        result["pass_mark"],
    )
    if result["passed"]:
        line = md(":tada: You passed *{}*. {}", result["title"], score)
        if result.get("certification") and result.get("renewed"):
            line = md(
                "{}\nYou are certified as *{}* until {}.",
                line,
                result["certification"],
                _until(result.get("expires_at")),
            )
        elif result.get("certification") and result.get("expires_at"):
            line = md(
                "{}\nYour *{}* certification already runs until {}; it can be renewed in its "
                "last 30 days.",
                line,
                result["certification"],
                _until(result.get("expires_at")),
            )
        return line
    line = md(
        "You did not pass *{}* this time. {} {}", result["title"], score, _wrong(result["wrong"])
    )
    if result.get("retry_at"):
        line = md("{}\nYou can try again from {}.", line, _until(result["retry_at"]))
    return line


def result_modal(result: dict[str, Any]) -> dict[str, Any]:
    """The modal after `Submit`."""
    return notice_modal("Passed" if result["passed"] else "Not passed yet", result_text(result))


def wait_modal(title: str, at: datetime) -> dict[str, Any]:
    """After a failed attempt, until the wait is over."""
    return notice_modal("Not yet", md("You can take *{}* again from {}.", title, slack_date(at)))


# --- Lists ----------------------------------------------------------------------------------


def _status_line(status: ModuleStatus, now: datetime) -> Mrkdwn:
    module = status.module
    state = status.state
    if state == "certified" and status.certified_until:
        left = (status.certified_until - now).days
        mark = ":hourglass:" if left <= 30 else ":white_check_mark:"
        return md(
            "{} Certified as {} until {}",
            mark,
            module.certification,
            slack_date(status.certified_until),
        )
    if state == "passed":
        return md(":white_check_mark: Done {}", slack_date(status.passed_at or now))
    if state == "expired":
        return md(":warning: Your {} certification has lapsed", module.certification)
    if state == "failed":
        if status.retry_at:
            return md(":repeat: Not passed yet · try again from {}", slack_date(status.retry_at))
        return literal(":repeat: Not passed yet")
    return literal(":new: Not started")


def status_blocks(
    found: list[ModuleStatus], upcoming: ModuleStatus | None, now: datetime, *, limit: int
) -> list[Block]:
    """A partner's modules: done, certified until when, next up — each with `Start training`
    (the first `limit` of them)."""
    if not found:
        return [context(literal("No training is offered to your company yet."))]
    blocks: list[Block] = []
    if upcoming is not None:
        blocks.append(section(md(":point_right: *Next up:* {}", upcoming.module.title)))
    for status in found[:limit]:
        module = status.module
        about = md("*{}* · {} path", module.title, module.learning_path)
        if module.certification:
            about = md("{} · grants *{}*", about, module.certification)
            if module.products:
                about = md("{} (registers {})", about, ", ".join(module.products))
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": join([about, _status_line(status, now)])},
                "accessory": button("Start training", ActionId.START_TRAINING, str(module.id)),
            }
        )
    if len(found) > limit:
        blocks.append(context(md("…and {} more: `/training`.", len(found) - limit)))
    return blocks


def catalogue_blocks(
    modules: list[TrainingModule], passed: dict[int, int], *, limit: int
) -> list[Block]:
    """What managers see: the catalogue and how many people passed each module."""
    if not modules:
        return [context(literal("No training loaded yet: `partnerbot training load DIR`."))]
    lines = [
        md(
            "• *{}* ({} path{}) · {} passed",
            module.title,
            module.learning_path,
            md(", grants {}", module.certification) if module.certification else literal(""),
            passed.get(module.id or 0, 0),
        )
        for module in modules[:limit]
    ]
    return [
        section(join(lines)),
        context(literal("Figures by type, tier and region: `partnerbot report training`.")),
    ]


# --- Messages ---------------------------------------------------------------------------------


def invite(facts: dict[str, Any]) -> list[Block]:
    """A DM inviting someone to a module."""
    about = md("You're invited to take *{}* ({} path).", facts["title"], facts["path"])
    if facts.get("certification"):
        about = md(
            "{} Passing it makes you *{}* for {} days.",
            about,
            facts["certification"],
            facts["valid_days"],
        )
    return [
        section(about),
        actions(
            button(
                "Start training", ActionId.START_TRAINING, str(facts["module_id"]), style="primary"
            )
        ),
    ]


def recertify(facts: dict[str, Any]) -> list[Block]:
    """A DM before a certification expires (or when it has)."""
    line = md(
        ":hourglass: Your *{}* certification {} {}. Take *{}* again to {} it.",
        facts["certification"],
        "expired" if facts.get("expired") else "expires",
        _until(facts.get("expires_at")),
        facts["title"],
        "renew" if not facts.get("expired") else "regain",
    )
    return [
        section(line),
        actions(
            button(
                "Start training", ActionId.START_TRAINING, str(facts["module_id"]), style="primary"
            )
        ),
    ]


def gated(certifications: list[tuple[str, list[tuple[int, str]]]]) -> list[Block]:
    """After a registration was refused for a missing certification: how to get it."""
    blocks: list[Block] = []
    for name, modules in certifications:
        blocks.append(
            section(md("Your company needs the *{}* certification to register that product.", name))
        )
        if modules:
            blocks.append(
                actions(
                    *(
                        button("Start training", ActionId.START_TRAINING, str(module_id))
                        for module_id, _title in modules[:5]
                    )
                )
            )
            titles = ", ".join(title for _, title in modules[:5])
            blocks.append(context(md("Passing {} grants it.", titles)))
    return blocks
