"""Reply extraction: exact-match accuracy on the labelled corpus and throughput, partnerbot
against three maintained reply parsers, all in one run on the same input.

The corpus is tests/mail/replies (`<stem>.eml` + the expected `<stem>.txt`, see its
README). Every message is parsed once with `bot.mail.reading.parse`; the input every
extractor gets is `bot.mail.reading.extraction_input` — the text part, or the HTML part as
text — so the libraries are judged on exactly the text partnerbot reads. An answer counts
when it equals the expected text after the corpus normalisation (trailing blanks of every line
and blank lines around the text dropped; every other character counts).

How each one is called, and why:

* partnerbot: `bot.mail.reading.extract(parsed)`, what the pipeline calls. Its time includes
  the HTML-to-text step of HTML-only messages; parsing is excluded for everyone.
* email-reply-parser (GitHub's parser, Python port): `EmailReplyParser.parse_reply(text)`,
  its one-call API for "the reply without quotes and signature".
* mail-parser-reply: `EmailReplyParser(languages=[every language it ships]).read(text)
  .latest_reply`, the newest reply in the thread with every language's header patterns on
  (partnerbot used it before, with five languages).
* quotequail: `quotequail.unwrap(text)` finds a reply or forward and returns the text above
  (`text_top`) and below (`text_bottom`) the quoted part — both are kept, so bottom posts
  count; when nothing was typed around a forward its unwrapped `text` is the answer. When
  `unwrap` finds nothing, `quotequail.quote(text)` splits the text and the parts it would show
  expanded are the answer.

    .venv/bin/python bench/reply_extraction.py [--rounds 5] [--failures NAME]

Targets (issue #15): partnerbot >= 97 % exact and ahead of every library.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import email_reply_parser
import mailparser_reply
import quotequail
from mailparser_reply.constants import MAIL_LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.mail.reading import Parsed, extract, extraction_input, parse  # noqa: E402

CORPUS = ROOT / "tests" / "mail" / "replies"
TARGET_ACCURACY = 0.97


@dataclass
class Case:
    """One labelled reply: its parsed message, the extractors' input and the expected text."""

    stem: str
    mail: Parsed
    text: str
    expected: str


@dataclass
class Result:
    """One extractor's score on the corpus."""

    name: str
    exact: int
    rate: float  # messages per second
    failures: list[str]


def normalised(text: str) -> str:
    """The corpus comparison: no trailing blanks on a line, no blank lines around the text."""
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def load() -> list[Case]:
    """Every labelled reply, parsed once."""
    cases = []
    for eml in sorted(CORPUS.glob("*.eml")):
        mail = parse(eml.read_bytes())
        expected = eml.with_suffix(".txt").read_text(encoding="utf-8")
        cases.append(Case(eml.stem, mail, extraction_input(mail), normalised(expected)))
    return cases


_mail_parser_reply = mailparser_reply.EmailReplyParser(languages=list(MAIL_LANGUAGES))


def with_mail_parser_reply(text: str) -> str:
    """mail-parser-reply's newest reply, every language on."""
    return _mail_parser_reply.read(text=text).latest_reply or ""


def with_email_reply_parser(text: str) -> str:
    """email-reply-parser's visible reply."""
    return email_reply_parser.EmailReplyParser.parse_reply(text) or ""


def with_quotequail(text: str) -> str:
    """quotequail: the text around a reply or forward it unwraps, else its expanded parts."""
    unwrapped = quotequail.unwrap(text)
    if unwrapped is None:
        return "\n".join(part for expanded, part in quotequail.quote(text) if expanded)
    around = [unwrapped.get(key, "") for key in ("text_top", "text_bottom")]
    typed = "\n\n".join(part for part in around if part and part.strip())
    return typed or unwrapped.get("text", "")


def score(name: str, run: Callable[[Case], str], cases: list[Case], rounds: int) -> Result:
    """Exact matches of one extractor over the corpus, and its throughput over `rounds`."""
    answers = [run(case) for case in cases]
    failures = [c.stem for c, a in zip(cases, answers, strict=True) if normalised(a) != c.expected]
    started = time.perf_counter()
    for _ in range(rounds):
        for case in cases:
            run(case)
    seconds = time.perf_counter() - started
    return Result(name, len(cases) - len(failures), len(cases) * rounds / seconds, failures)


def main() -> None:
    """Score every extractor, print the table, and say whether the targets are met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the corpus")
    parser.add_argument("--failures", metavar="NAME", help="list the cases NAME gets wrong")
    args = parser.parse_args()

    cases = load()
    extractors: list[tuple[str, Callable[[Case], str]]] = [
        ("partnerbot", lambda case: extract(case.mail)),
        ("email-reply-parser", lambda case: with_email_reply_parser(case.text)),
        ("mail-parser-reply", lambda case: with_mail_parser_reply(case.text)),
        ("quotequail", lambda case: with_quotequail(case.text)),
    ]
    results = [score(name, run, cases, args.rounds) for name, run in extractors]

    print(f"{len(cases)} labelled replies ({CORPUS.relative_to(ROOT)}), {args.rounds} timed rounds")
    print(f"{'extractor':<20} {'exact':>9} {'accuracy':>9} {'msg/s':>9}")
    for result in results:
        accuracy = result.exact / len(cases)
        print(
            f"{result.name:<20} {result.exact:>4}/{len(cases):<4} {accuracy:>8.1%} {result.rate:>9.0f}"
        )
    for result in results:
        if args.failures == result.name or (result.name == "partnerbot" and result.failures):
            print(f"{result.name} misses: {', '.join(result.failures) or 'none'}")

    ours, *libraries = results
    failures = []
    if ours.exact / len(cases) < TARGET_ACCURACY:
        failures.append(f"accuracy {ours.exact / len(cases):.1%} < {TARGET_ACCURACY:.0%}")
    failures += [f"{lib.name} is not behind" for lib in libraries if lib.exact >= ours.exact]
    print("targets:", "met" if not failures else "MISSED: " + "; ".join(failures))


if __name__ == "__main__":
    main()
