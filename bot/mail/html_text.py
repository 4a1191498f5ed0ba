"""HTML mail as the plain text a person typed: block elements and `<br>` end lines,
`<blockquote>` is quoted with "> ", `<hr>` becomes a rule (which ends a reply), and nothing is
added or escaped — the text is what the reply trimmer reads when a message has no text part."""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    }
)
SKIPPED = frozenset({"head", "script", "style", "title", "template"})
RULE = "_" * 32  # what Outlook writes for a rule in its own text part
WHITESPACE = re.compile(r"[ \t\n\r\f]+")  # HTML's collapsible blanks (not U+00A0)


def _tight(attrs: list[tuple[str, str | None]]) -> bool:
    """A paragraph shown without space around it (Outlook's MsoNormal, zero margins)."""
    values = dict(attrs)
    style = (values.get("style") or "").replace(" ", "").lower()
    return "mso" in (values.get("class") or "").lower() or "margin:0" in style


class _Writer(HTMLParser):
    """Collects lines, each with the blockquote depth it was written at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.depth = 0  # open <blockquote>s
        self.skipping = 0  # open <head>, <style>, <script>…
        self.preformatted = 0
        self.lists: list[int | None] = []  # an <ol>'s next number, None for a <ul>
        self.paragraphs: list[bool] = []  # open <p>s: whether each is tight (see `_tight`)
        self.blank_pending = False  # a spaced paragraph ended: a blank line before the next text

    def _flush(self, keep_empty: bool = False) -> None:
        """End the current line (an empty one only when `keep_empty`)."""
        text = "".join(self.current).rstrip(" ")
        self.current = []
        if text or keep_empty:
            self.lines.append(("> " * self.depth + text).rstrip(" ") if self.depth else text)

    def _text(self, text: str) -> None:
        """Add text to the current line, after a pending paragraph break."""
        if self.blank_pending and self.lines and self.lines[-1].strip(">"):
            self.lines.append(">" * self.depth)
        self.blank_pending = False
        self.current.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element: a line break, a quote level, a list item's marker."""
        if tag in SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self._flush(keep_empty=True)
        elif tag == "hr":
            self._flush()
            self.lines.append(RULE)
        elif tag in BLOCKS:
            self._flush()
            self.depth += tag == "blockquote"
            self.preformatted += tag == "pre"
            if tag in ("ol", "ul"):
                self.lists.append(1 if tag == "ol" else None)
            elif tag == "li":
                self._list_marker()
            elif tag == "p":
                self.paragraphs.append(_tight(attrs))
        elif tag in ("td", "th") and "".join(self.current).strip():
            self.current.append(" ")

    def _list_marker(self) -> None:
        """'- ' or '3. ' before a list item."""
        number = self.lists[-1] if self.lists else None
        if number is None:
            self._text("- ")
        else:
            self._text(f"{number}. ")
            self.lists[-1] = number + 1

    def handle_endtag(self, tag: str) -> None:
        """Close an element: end its line, its quote level, its list."""
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCKS:
            self._flush()
            if tag == "blockquote":
                self.depth = max(0, self.depth - 1)
            elif tag == "pre":
                self.preformatted = max(0, self.preformatted - 1)
            elif tag in ("ol", "ul") and self.lists:
                self.lists.pop()
            elif tag == "p":
                self.blank_pending = not (self.paragraphs.pop() if self.paragraphs else False)

    def handle_data(self, data: str) -> None:
        """Text as a browser shows it: blanks collapsed, none at a line's start."""
        if self.skipping:
            return
        if self.preformatted:
            first, *rest = data.split("\n")
            self._text(first)
            for line in rest:
                self._flush(keep_empty=True)
                self._text(line)
            return
        text = WHITESPACE.sub(" ", data)
        if not "".join(self.current).strip(" "):
            text = text.lstrip(" ")
        if text:
            self._text(text)


def html_to_text(html: str) -> str:
    """The text of an HTML body, one line per line break, quotes marked with "> "."""
    writer = _Writer()
    writer.feed(html)
    writer.close()
    writer._flush()
    return "\n".join(writer.lines)
