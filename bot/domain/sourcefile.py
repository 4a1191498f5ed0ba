"""Files people write by hand (the program, the training catalogue): YAML read with the line of
every value, and problems reported the way a compiler reports them, all at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from bot.errors import UserFacingError


@dataclass(frozen=True)
class Problem:
    """One problem in a file, named by line and field."""

    source: str
    line: int
    field: str | None
    message: str

    def render(self) -> str:
        """`file:line: field: message`."""
        where = f"{self.source}:{self.line}" + (f": {self.field}" if self.field else "")
        return f"{where}: {self.message}"


class FileProblems(UserFacingError):
    """The file(s) have problems; nothing was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.source, p.line))
        lines = [problem.render() for problem in self.problems]
        super().__init__(f"{len(lines)} error(s), nothing was loaded:\n" + "\n".join(lines))


class Mapping(dict[str, Any]):
    """A YAML mapping that remembers where it and each of its values were written."""

    line: int = 0
    lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The line `key`'s value was written on (the mapping's own when it is absent)."""
        return self.lines.get(key, self.line)


class Sequence(list[Any]):
    """A YAML list that remembers the line of each item."""

    line: int = 0
    lines: list[int]


def _value(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        mapping = Mapping()
        mapping.line, mapping.lines = node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            mapping[key] = _value(value_node, loader)
            mapping.lines[key] = value_node.start_mark.line + 1
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = Sequence(_value(item, loader) for item in node.value)
        items.line = node.start_mark.line + 1
        items.lines = [item.start_mark.line + 1 for item in node.value]
        return items
    return loader.construct_object(node)  # a scalar, typed as YAML types it (int, bool, date)


def load(source: str, text: str) -> Any:
    """The document with line numbers (`Mapping`, `Sequence`, scalars); FileProblems when it
    is not YAML."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else 1
        raise FileProblems([Problem(source, line, None, f"not valid YAML: {problem}")]) from None
    return None if root is None else _value(root, yaml.SafeLoader(""))


class Checker:
    """Collects a file's problems while its values are read, so all are reported at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def fail(self, line: int, field: str | None, message: str) -> None:
        """Note a problem."""
        self.problems.append(Problem(self.source, line, field, message))

    def unknown_keys(self, mapping: Mapping, allowed: tuple[str, ...], where: str = "") -> None:
        """Refuse keys the format does not have (a typo must not be silently ignored)."""
        for key in mapping:
            if key not in allowed:
                self.fail(
                    mapping.line_of(key),
                    where + key,
                    "unknown key (expected one of: " + ", ".join(allowed) + ")",
                )

    def text(
        self, mapping: Mapping, key: str, *, limit: int, required: bool = True, where: str = ""
    ) -> str | None:
        """A non-empty string of at most `limit` characters."""
        value = mapping.get(key)
        line, field = mapping.line_of(key), where + key
        if value is None:
            if required:
                self.fail(line, field, "is required")
            return None
        if isinstance(value, (Mapping, Sequence, bool)):
            self.fail(line, field, "must be text")
            return None
        text = str(value).strip()
        if not text:
            self.fail(line, field, "must not be empty")
            return None
        if len(text) > limit:
            self.fail(line, field, f"is {len(text)} characters long; at most {limit}")
            return None
        return text

    def number(
        self,
        mapping: Mapping,
        key: str,
        *,
        low: int,
        high: int,
        default: int | None,
        where: str = "",
    ) -> int | None:
        """A whole number within [low, high]; `default` when absent."""
        value = mapping.get(key)
        line, field = mapping.line_of(key), where + key
        if value is None:
            if default is None:
                self.fail(line, field, "is required")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(line, field, f"must be a whole number (got {value!r})")
            return None
        if not low <= value <= high:
            self.fail(line, field, f"must be between {low} and {high} (got {value})")
            return None
        return value

    def flag(self, mapping: Mapping, key: str, *, default: bool, where: str = "") -> bool | None:
        """true or false; `default` when absent."""
        value = mapping.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(mapping.line_of(key), where + key, f"must be true or false (got {value!r})")
            return None
        return value

    def texts(self, mapping: Mapping, key: str, *, limit: int, where: str = "") -> list[str] | None:
        """A list of strings (a single string is a list of one); [] when absent."""
        value = mapping.get(key)
        line, field = mapping.line_of(key), where + key
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(line, field, "must be a list")
            return None
        out = []
        for item in value:
            if isinstance(item, (Mapping, Sequence, bool)) or item is None:
                self.fail(line, field, "must be a list of names")
                return None
            text = str(item).strip()
            if not text or len(text) > limit:
                self.fail(line, field, f"each name must be 1 to {limit} characters")
                return None
            out.append(text)
        return out
