"""Every error a citizen or clerk can meet says it in English (message) and in Chinese (zh=)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "queue_server").rglob("*.py"), *(ROOT / "display").rglob("*.py")])
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Helpers that build an error from (field, zh, en) style arguments: name -> (message arg, zh arg).
HELPERS = {"invalid": ("en", "zh")}
# Raised before the server answers anything (bad settings file, database URL): the operator reads
# them on the console in English, with the setting's name; no citizen or clerk meets them.
EXEMPT = {"ConfigError"}


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in SOURCES}


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    names = {"OneWindowError"}
    while True:
        found = {
            node.name
            for tree in trees.values()
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(getattr(base, "id", getattr(base, "attr", None)) in names for base in node.bases)
        }
        if found <= names:
            return names
        names |= found


def _text(node: ast.expr | None) -> str | None:
    """The literal parts of a string or f-string; None when the argument is not written out."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value for part in node.values if isinstance(part, ast.Constant))
    return None


def _call_name(call: ast.Call) -> str | None:
    return getattr(call.func, "id", getattr(call.func, "attr", None))


def _sites() -> list[tuple[str, str | None, ast.expr | None, ast.expr | None, bool]]:
    """(where, kind, message node, zh node, has zh keyword) for every error built or helper called."""
    trees = _trees()
    classes = _error_classes(trees)
    sites = []
    for path, tree in trees.items():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            # every error built: `raise X(...)`, `return X(...)`, `error = X(...)`
            if isinstance(node, ast.Call) and _call_name(node) in classes:
                if path.name == "exceptions.py" or _call_name(node) in EXEMPT:
                    continue
                keywords = {k.arg: k.value for k in node.keywords}
                message = node.args[0] if node.args else keywords.get("message")
                sites.append((f"{where}:{node.lineno}", "error", message, keywords.get("zh"), "zh" in keywords))
            elif isinstance(node, ast.Call) and _call_name(node) in HELPERS:
                if isinstance(node.func, ast.Name) and node.func.id not in HELPERS:
                    continue
                en_name, zh_name = HELPERS[_call_name(node)]
                keywords = {k.arg: k.value for k in node.keywords}
                # invalid(field, zh, en): positional or by keyword
                zh = node.args[1] if len(node.args) > 1 else keywords.get(zh_name)
                en = node.args[2] if len(node.args) > 2 else keywords.get(en_name)
                sites.append((f"{where}:{node.lineno}", "helper", en, zh, zh is not None))
    return sites


SITES = _sites()


def test_the_walk_finds_the_raise_sites():
    assert len(SITES) > 150


@pytest.mark.parametrize("site", SITES, ids=[site[0] for site in SITES])
def test_every_error_has_english_message_and_chinese_zh(site):
    where, _kind, message, zh, has_zh = site
    assert has_zh, f"{where}: no zh= (Chinese message)"
    text = _text(message)
    if text is not None:
        assert text.strip(), f"{where}: empty message"
        assert not CJK.search(text), f"{where}: Chinese inside the English message: {text!r}"
    zh_text = _text(zh)
    if zh_text is not None:
        assert CJK.search(zh_text), f"{where}: zh= has no Chinese: {zh_text!r}"


@pytest.mark.parametrize(("size", "english"), [(1, "needs at least 1 item"), (2, "needs at least 2 items")])
def test_a_list_too_short_reads_as_english(size: int, english: str) -> None:
    from queue_server.core.field_errors import reason

    error = {"type": "too_short", "ctx": {"field_type": "List", "min_length": size, "actual_length": 0}, "msg": ""}
    assert reason(error) == (english, f"至少需要 {size} 项")
