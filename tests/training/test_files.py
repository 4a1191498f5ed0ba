"""The hand-written files (program and catalogue) and email quiz answers: strict where a
typo would silently change the program, tolerant where a person types."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import catalogue, program, training
from bot.domain.sourcefile import FileProblems
from store.models import TrainingModule

EXAMPLES = Path(__file__).parents[2] / "examples"
PRODUCTS = ["Core", "Analytics", "Enterprise"]


def problems(error: pytest.ExceptionInfo[FileProblems]) -> list[str]:
    return [p.render() for p in error.value.problems]


def test_the_example_program_and_catalogue_load() -> None:
    tiers = program.parse("program.yaml", (EXAMPLES / "program.yaml").read_text())
    assert {t.name: t.certification_required for t in tiers} == {
        "gold": True,
        "silver": True,
        "registered": False,
    }
    modules = catalogue.read_catalogue(EXAMPLES / "training", PRODUCTS)
    assert {m.learning_path for m in modules} == {"sales", "technical", "support"}
    assert all(m.quiz and m.content for m in modules)


def test_a_bad_program_names_every_problem_by_line() -> None:
    text = (
        "tiers:\n"
        "  - name: gold\n"
        "    protection_days: 120\n"
        "    certification_required: yes please\n"
        "  - name: Gold\n"
        "  - protection_days: 60\n"
        "    max_extension: 3\n"
    )
    with pytest.raises(FileProblems) as error:
        program.parse("p.yaml", text)
    assert problems(error) == [
        "p.yaml:3: protection_days: must be between 60 and 90 (got 120)",
        "p.yaml:4: certification_required: must be true or false (got 'yes please')",
        "p.yaml:5: name: tier 'Gold' is set twice (first on line 2)",
        "p.yaml:6: name: is required",
        "p.yaml:7: max_extension: unknown key (expected one of: name, protection_days, "
        "max_extensions, certification_required)",
    ]
    with pytest.raises(FileProblems) as error:
        program.parse("p.yaml", "tiers: [\n  name: gold\n")
    assert problems(error)[0].startswith("p.yaml:3: not valid YAML")


MODULE = """\
id: quiz-1
title: Quiz one
path: sales
content: |
  Read this.
questions:
  - question: One?
    choices: [a, b]
    answer: 1
"""


def test_a_bad_module_file_is_refused_with_its_name_line_and_problem(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(MODULE)
    (tmp_path / "bad.yaml").write_text(
        MODULE.replace("quiz-1", "quiz 2")
        .replace("path: sales", "path: marketing")
        .replace("answer: 1", "answer: 3")
        + "certification:\n  name: Pro\n  products: [Enterprize]\n"
    )
    (tmp_path / "long.yaml").write_text(
        MODULE.replace("quiz-1", "quiz-3").replace("[a, b]", "[a, " + "b" * 80 + "]")
    )
    (tmp_path / "twin.yaml").write_text(MODULE)
    with pytest.raises(FileProblems) as error:
        catalogue.read_catalogue(tmp_path, PRODUCTS)
    found = problems(error)
    assert f"{tmp_path}/bad.yaml:1: id: use letters, digits and '-' only" in found
    assert f"{tmp_path}/bad.yaml:3: path: must be one of sales, technical, support" in found
    assert f"{tmp_path}/bad.yaml:9: questions[1].answer: must be between 1 and 2 (got 3)" in found
    assert any(
        "bad.yaml:12: certification.products: 'Enterprize' is not a product" in p for p in found
    )
    assert any("long.yaml:8: questions[1].choices: each choice must be 1 to 75" in p for p in found)
    assert f"{tmp_path}/twin.yaml:1: id: 'quiz-1' is also the id in {tmp_path}/good.yaml" in found


def _module(*choices: int) -> TrainingModule:
    quiz = [
        {"question": f"Q{n}", "choices": ["x"] * count, "answer": 1}
        for n, count in enumerate(choices, start=1)
    ]
    return TrainingModule(slug="m", title="M", learning_path="sales", content="c", quiz=quiz)


@pytest.mark.parametrize(
    "text",
    [
        "1b 2a 3c",
        "1B, 2A, 3C",
        "1) b\n2) a\n3) c",
        "Here you go:\n1. B\n2 - a\n3: c\n\nThanks, Sam",
        "Q1: b; q2 a; question 3 (c)",
        "b a c",
        "1b 2a 3c\n\nOn Mon, Nov 23, 2026, partnerbot wrote:",
    ],
)
def test_email_answers_are_read_tolerantly(text: str) -> None:
    assert training.read_answers(text, _module(3, 3, 3)) == training.EmailAnswers(
        {1: 2, 2: 1, 3: 3}
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Thanks, I'll do it tomorrow.", "We found no quiz answers"),
        ("1b 2a", "no answer to question 3"),
        ("1b 1c 2a 3a", "Question 1 has more than one answer"),
        ("1b 2a 3e", "question 3 has choices a to c"),
    ],
)
def test_a_reply_that_cannot_be_graded_says_why(text: str, problem: str) -> None:
    found = training.read_answers(text, _module(3, 3, 3))
    assert found.answers == {} and found.problem and problem in found.problem


def test_grading_says_which_questions_were_wrong_and_respects_the_pass_mark() -> None:
    module = _module(3, 3, 3, 3, 3)
    module.pass_mark = 0.8
    assert training.grade(module, {1: 1, 2: 1, 3: 1, 4: 1, 5: 2}) == training.Grade(
        4, 5, True, (5,)
    )
    assert training.grade(module, {1: 1, 2: 2, 3: 1, 4: 1, 5: 2}).wrong == (2, 5)
    assert not training.grade(module, {1: 1, 2: 2, 3: 1, 4: 1, 5: 2}).passed
