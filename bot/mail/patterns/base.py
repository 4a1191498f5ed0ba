"""The shapes of reply-extraction data: a pattern with the client that writes it and a line
it must recognise, and what one language contributes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    """A regular expression over one line (matched whole, ignoring case), the clients that
    write such lines, and an example line it recognises (tests/mail/test_extraction.py)."""

    regex: str
    source: str
    example: str


@dataclass(frozen=True)
class Language:
    """What mail clients write in one language around a reply.

    * `attributions`: "On … wrote:" lines, ending with a colon; matched after the quote
      marks, blanks, bold asterisks and framing dashes around them are stripped (a line framed
      by dashes, "---- On … wrote ----", gets the colon).
    * `bare_attributions`: the few attribution shapes without a final colon.
    * `separators`: the phrase inside a dashed "original/forwarded message" line
      ("-----Original Message-----"); the dashes are required, not part of the regex.
    * `forward_lines`: whole lines that introduce a forwarded message ("Begin forwarded
      message:").
    * `header_labels`: labels of an earlier message's header block ("From", "Betreff").
    * `client_lines`: lines a client adds to what the person typed ("Sent from my iPhone").
    """

    code: str
    attributions: tuple[Pattern, ...] = ()
    bare_attributions: tuple[Pattern, ...] = ()
    separators: tuple[Pattern, ...] = ()
    forward_lines: tuple[Pattern, ...] = ()
    header_labels: tuple[str, ...] = ()
    client_lines: tuple[Pattern, ...] = ()
