"""Reply extraction: every labelled reply of tests/mail/replies gives exactly its expected text,
every pattern in bot/mail/patterns recognises its example line, and lines that only look like
what a mail client adds (prose with "wrote", lists, indented blocks) are kept as typed."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.mail.html_text import html_to_text
from bot.mail.patterns import LANGUAGES
from bot.mail.reading import extract, parse
from bot.mail.trimming import Kind, classify, classify_line, trim

REPLIES = Path(__file__).parent / "replies"
STEMS = sorted(path.stem for path in REPLIES.glob("*.eml"))


def normalised(text: str) -> str:
    """The corpus comparison: no trailing blanks on a line, no blank lines around the text."""
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def test_the_corpus_is_whole() -> None:
    assert len(STEMS) >= 290
    assert all((REPLIES / f"{stem}.txt").exists() for stem in STEMS)


@pytest.mark.parametrize("stem", STEMS)
def test_a_reply_gives_what_the_person_typed(stem: str) -> None:
    mail = parse((REPLIES / f"{stem}.eml").read_bytes())
    expected = (REPLIES / f"{stem}.txt").read_text(encoding="utf-8")
    assert normalised(extract(mail)) == normalised(expected)


# --- the patterns, one test each ------------------------------------------------------------

MARKERS = [
    pytest.param(pattern.example, id=f"{lang.code}-{field}-{index}")
    for lang in LANGUAGES
    for field in ("attributions", "bare_attributions", "separators", "forward_lines")
    for index, pattern in enumerate(getattr(lang, field))
]
CLIENT_LINES = [
    pytest.param(pattern.example, id=f"{lang.code}-client-{index}")
    for lang in LANGUAGES
    for index, pattern in enumerate(lang.client_lines)
]
LABELS = [
    pytest.param(label, id=f"{lang.code}-{label}")
    for lang in LANGUAGES
    for label in lang.header_labels
]


@pytest.mark.parametrize("line", MARKERS)
def test_an_attribution_or_separator_is_a_marker(line: str) -> None:
    assert classify_line(line) is Kind.MARKER


@pytest.mark.parametrize("line", [p for p in MARKERS if p.values[0].endswith((":", "\uff1a"))])
def test_a_quoted_attribution_is_a_marker(line: str) -> None:
    assert classify_line("> " + line) is Kind.MARKER  # Apple Mail and iOS quote it


@pytest.mark.parametrize("line", CLIENT_LINES)
def test_a_client_line_is_recognised(line: str) -> None:
    assert classify_line(line) is Kind.CLIENT


@pytest.mark.parametrize("label", LABELS)
def test_a_header_label_is_recognised_plain_bold_and_tabbed(label: str) -> None:
    assert classify_line(f"{label}: partnerbot <bot@vendor.example>") is Kind.HEADER
    assert classify_line(f"*{label}:* partnerbot <bot@vendor.example>") is Kind.HEADER
    assert classify_line(f"{label}:\t12.12.2026 10:00") is Kind.HEADER


@pytest.mark.parametrize(
    "line",
    [
        "The customer wrote back on Monday and they want to extend by 30 days.",
        "As the customer wrote:",
        "On Friday the superintendent confirmed 600 seats.",
        "On the call, the CFO said:",
        "Update from 12/01: the customer wrote:",
        "Le client a écrit :",
        "Am Montag schrieb der Kunde:",
        "From: the customer's side, nobody objected to the price.",
        "From the customer's side, nobody objected.",
        "Sent from our Berlin office, the signed order arrives on Monday.",
        "Sent from my desk, which is easier than my phone.",
        "Inviato da Marco ieri, il contratto è firmato e arriva lunedì.",
        "来自客户的反馈很好",
        "Contact since 2024: Ann Lee <ann.lee@bluepeak.example>",
        "- 75 seats in year one",
        "* they also asked about the SSO add-on",
        "    1200 Commerce St, Suite 400",
        "1) c, 2) b, 3) b, 4) a",
        "Date de signature prévue : 15/02/2027.",
        "+1",
    ],
)
def test_a_line_that_only_looks_added_is_text(line: str) -> None:
    assert classify_line(line) is Kind.TEXT


# --- the sequence rules -----------------------------------------------------------------------


def test_an_attribution_wrapped_over_three_lines_is_one_marker() -> None:
    lines = [
        "Thanks,",
        "Marcus",
        "",
        "On Tue, Nov 24, 2026 at 9:14 AM, partnerbot",
        "<bot@vendor.example>",
        "wrote:",
        "> Hello",
    ]
    assert classify(lines)[3:6] == [Kind.MARKER] * 3
    assert trim("\n".join(lines)) == "Thanks,\nMarcus"


def test_a_typed_line_right_above_an_attribution_is_not_glued_to_it() -> None:
    text = "Count us in.\npartnerbot <bot@vendor.example> wrote:\n> Hello"
    assert trim(text) == "Count us in."


def test_a_list_and_an_indented_block_are_kept_and_quotes_below_go() -> None:
    text = (
        "Billing address:\n\n    Red River Foods Inc.\n    Dallas, TX 75202\n\n- 40 seats\n"
        "- 2 years\n\nThanks, Ann\n\nOn Wed, Dec 16, 2026 at 10:00 AM partnerbot "
        "<bot@vendor.example> wrote:\n> Hello"
    )
    assert trim(text) == text.split("\n\nOn Wed")[0]


def test_an_inline_reply_keeps_the_questions_between_the_answers() -> None:
    text = "On 02/12/2026 10:00, partnerbot wrote:\n> Seats?\n80\n> Signer?\nThe COO\n> -- \n> bot"
    assert trim(text) == "> Seats?\n80\n> Signer?\nThe COO"


def test_a_bottom_post_keeps_only_the_text_below_the_quote() -> None:
    text = "Em 03/12/2026 09:00, partnerbot escreveu:\n> Olá\n\nEntendido.\n\nRui"
    assert trim(text) == "Entendido.\n\nRui"


def test_a_quote_alone_is_kept_as_it_stands() -> None:
    text = "\nSent from my iPhone\n\n> On 17 Dec 2026, at 09:00, partnerbot wrote:\n> \n> Hello"
    assert trim(text) == ">\n> Hello"


def test_a_forward_keeps_the_comment_above_it_or_else_the_forwarded_body() -> None:
    forward = (
        "---------- Forwarded message ---------\nFrom: Jana Roth <j.roth@oakline.example>\n"
        "Date: Fri, Dec 18, 2026 at 8:02 AM\nSubject: VAT\nTo: Marcus <m@reedtech.example>\n\n"
        "Our VAT ID is DE 298 765 432."
    )
    assert trim("FYI, see below.\n\n" + forward) == "FYI, see below."
    assert trim(forward) == "Our VAT ID is DE 298 765 432."


def test_two_header_like_lines_are_typed_text_three_are_an_earlier_message() -> None:
    typed = "Noted.\n\nFrom: Ann\nSubject: renewal\n\nThey sign in January."
    assert trim(typed) == typed
    earlier = "Noted.\n\nVon: Ann <a@x.example>\nAn: Bob <b@x.example>\nBetreff: Preise\n\nHallo"
    assert trim(earlier) == "Noted."


def test_a_delimiter_cuts_the_signature_but_not_a_rule_above_a_bare_forward() -> None:
    assert trim("Ack.\n-- \nAnn Lee\nBlue Peak") == "Ack."
    outlook_forward = (
        "________________________________\nFrom: George <g@hollins.example>\n"
        "Sent: 18 December 2026 15:22\nTo: Emma <e@thompson.example>\nSubject: Details\n\nVAT: GB 1"
    )
    assert trim(outlook_forward) == "VAT: GB 1"


def test_invisible_characters_go_and_everything_else_is_kept() -> None:
    text = "\ufeff\u200bGot it\u200d, thanks\u00a0!\r\n\tprocure\u00adment\u2060 ok\r\n"
    assert trim(text) == "Got it, thanks\u00a0!\n\tprocurement ok"


def test_a_client_line_directly_under_the_text_goes() -> None:
    assert trim("40 seats.\nSent from my iPhone\n\n> Hello") == "40 seats."


LINES = st.sampled_from(
    [
        "",
        "Thanks, Ann",
        "extend 30",
        "> quoted",
        "> On Tue, Nov 24, 2026 at 9:14 AM partnerbot <bot@vendor.example> wrote:",
        "On Tue, Nov 24, 2026 at 9:14 AM partnerbot",
        "<bot@vendor.example> wrote:",
        "-----Original Message-----",
        "From: partnerbot <bot@vendor.example>",
        "Sent: Tuesday, 24 November 2026 09:00",
        "Subject: hello",
        "-- ",
        "Sent from my iPhone",
        "\u200bzero\u00adwidth",
    ]
)


@given(st.lists(LINES | st.text(max_size=40), max_size=30))
def test_the_reply_is_made_of_the_bodys_own_lines_in_order(lines: list[str]) -> None:
    body = "\n".join(lines)
    reply = trim(body).split("\n")
    visible = re.sub("[\u200b\u200c\u200d\u2060\ufeff\u034f\u00ad]", "", body)
    source = [
        line.rstrip() for line in visible.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    position = 0
    for line in reply:
        while position < len(source) and source[position] != line:
            position += 1
        assert position < len(source) or line == "", (line, source)  # nothing invented


# --- the input: HTML-only mail and undecoded ISO-2022-JP ---------------------------------------


def test_html_becomes_the_text_as_shown_with_blockquotes_quoted() -> None:
    html = (
        "<html><head><style>p{margin:0}</style></head><body><div>Thanks,<br>Ann &amp; Bob</div>"
        "<div><br></div><div>- 40 seats</div><p>Para one</p><p>Para two</p>"
        "<div>On 21 Dec 2026, partnerbot &lt;bot@vendor.example&gt; wrote:</div>"
        "<blockquote>Hello<br><br>Bye</blockquote><hr><div>tail</div></body></html>"
    )
    assert html_to_text(html).split("\n") == [
        "Thanks,",
        "Ann & Bob",
        "",
        "- 40 seats",
        "Para one",
        "",
        "Para two",
        "",
        "On 21 Dec 2026, partnerbot <bot@vendor.example> wrote:",
        "> Hello",
        ">",
        "> Bye",
        "_" * 32,
        "tail",
    ]


def test_outlook_paragraphs_are_single_lines() -> None:
    html = (
        '<p class="MsoNormal">Hallo,<o:p></o:p></p><p class="MsoNormal">&nbsp;</p>'
        '<p class="MsoNormal">ja.</p>'
    )
    assert html_to_text(html) == "Hallo,\n\u00a0\nja."


def test_an_iso_2022_jp_reply_is_decoded() -> None:
    message = EmailMessage()
    message["From"], message["To"] = "Taro <taro@fuji-it.example>", "bot@reply.vendor.example"
    message["Subject"] = "Re: quiz"
    message.set_content("回答です。\n1c 2b 3b\n\n> Hello", charset="iso-2022-jp", cte="7bit")
    assert extract(parse(message.as_bytes())) == "回答です。\n1c 2b 3b"
