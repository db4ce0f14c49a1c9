"""Call announcement templates: words with the bare {number} and {window} placeholders, nothing else.

A template is handed to str.format, and a format spec such as {window:>300000} makes a text long
enough to crash the speech engine; so the rule is a whitelist, checked wherever a template enters.
"""

from __future__ import annotations

import re
import unicodedata

LONGEST_TEMPLATE = 200
PLACEHOLDERS = ("{number}", "{window}")
# A braced field, or a brace that opens or closes nothing.
_BRACES = re.compile(r"\{[^{}]*\}|[{}]")


class TemplateError(ValueError):
    """A template that may not be used; `message` in English, `zh` in Chinese."""

    def __init__(self, message: str, zh: str) -> None:
        super().__init__(message)
        self.message, self.zh = message, zh


def check_template(template: object) -> str:
    """`template` unchanged if it holds only words, {number} and {window}; else raise TemplateError."""
    if not isinstance(template, str):
        raise TemplateError("must be text", "应为文字")
    if len(template) > LONGEST_TEMPLATE:
        raise TemplateError(f"at most {LONGEST_TEMPLATE} characters", f"最多 {LONGEST_TEMPLATE} 个字")
    if any(unicodedata.category(c) == "Cc" for c in template):
        raise TemplateError("must be one line without control characters", "只能是一行文字，不能含控制字符")
    for found in _BRACES.finditer(template):
        if found.group(0) not in PLACEHOLDERS:
            raise _brace_problem(found.group(0))
    if "{number}" not in template:
        raise TemplateError("must contain {number}", "必须包含 {number}")
    return template


# Punctuation at the edge of the words between placeholders: a pause the joined audio makes anyway.
EDGE_PUNCTUATION = " \t,.;:!?，。；：！？、"
_PLACEHOLDER = re.compile(r"(\{number\}|\{window\})")


def split_template(template: str) -> list[tuple[str, str]]:
    """A checked template as its pieces in order: ("words", the words between) and ("number" | "window", "").

    "请 {number} 号，到 {window} 号窗口办理" -> words 请, number, words 号，到, window, words 号窗口办理.
    """
    pieces: list[tuple[str, str]] = []
    for part in _PLACEHOLDER.split(check_template(template)):
        if part in PLACEHOLDERS:
            pieces.append((part[1:-1], ""))
        elif words := " ".join(part.split()).strip(EDGE_PUNCTUATION):
            pieces.append(("words", words))
    return pieces


def _brace_problem(inner: str) -> TemplateError:
    """What is wrong with a braced piece that is not a bare placeholder."""
    if len(inner) == 1:
        return TemplateError(
            "has a stray { or }; braces are only for {number} and {window}",
            "有多余的 { 或 }，花括号只能用于 {number} 和 {window}",
        )
    if ":" in inner or "!" in inner:
        return TemplateError(
            f"{inner} has a format spec or conversion; write {{number}} or {{window}} bare",
            f"{inner} 不能带格式说明，只能写 {{number}} 或 {{window}}",
        )
    return TemplateError(
        f"{inner} is not allowed; use only the placeholders {{number}} and {{window}}",
        f"不能使用 {inner}，只能使用 {{number}} 和 {{window}} 两个占位符",
    )


def written_call(number: str, window_number: int) -> dict[str, str]:
    """The call as the board writes it under the number (not the spoken text, which spells digits out)."""
    return {"zh": f"{number} 请到 {window_number} 号窗口", "en": f"{number} → Window {window_number}"}
