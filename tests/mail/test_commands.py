"""Email commands are read from the reply's own first line, also under an inline quote."""

from __future__ import annotations

import pytest

from bot.mail.replies import command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("approve", ("approve", "")),
        (
            "Declined: the customer is a direct account.\n\nMia",
            ("decline", "the customer is a direct account."),
        ),
        ("> Could you approve Acme?\n\napprove\n\n> Thanks", ("approve", "")),
        ("extend 30 days please", ("extend", "30 days please")),
        ("> approve\nI'd rather not yet.", ("", "")),  # the quoted command is not theirs
        ("", ("", "")),
    ],
)
def test_the_command_is_the_first_line_the_person_wrote(
    text: str, expected: tuple[str, str]
) -> None:
    assert command(text) == expected
