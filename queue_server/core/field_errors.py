"""A model's validation error as words people read, in English and Chinese: the public API's request errors
(shown next to the field) and the administration's settings and catalog errors.

pydantic's own text ("String should have at least 11 characters") and our field names (id_number) are for
programmers; the pages show these sentences instead. The error's `field` still names the field.
"""

from __future__ import annotations

# What people call the fields of the public requests (English, Chinese); other fields keep their name.
LABELS = {
    "service": ("Service", "办理事项"),
    "starts_at": ("Time slot", "预约时段"),
    "name": ("Name", "姓名"),
    "phone": ("Mobile number", "手机号"),
    "id_number": ("ID number", "身份证号"),
    "code": ("Booking code", "预约码"),
    "score": ("Rating", "评价等级"),
    "comment": ("Comment", "意见建议"),
    "reasons": ("Reasons", "不满意原因"),
    "username": ("User name", "用户名"),
    "password": ("Password", "密码"),
}

# pydantic error type -> (English, Chinese); {placeholders} come from the error's context.
REASONS = {
    "missing": ("is required", "必须填写"),
    "string_too_short": ("needs at least {min_length} characters", "至少需要 {min_length} 个字符"),
    "string_too_long": ("takes at most {max_length} characters", "最多 {max_length} 个字符"),
    "string_pattern_mismatch": ("is not in the expected form", "格式不正确"),
    "string_type": ("must be text", "应为文字"),
    "int_type": ("must be a whole number", "应为整数"),
    "int_parsing": ("must be a whole number", "应为整数"),
    "bool_type": ("must be true or false", "应为 true 或 false"),
    "greater_than_equal": ("must be at least {ge}", "不能小于 {ge}"),
    "less_than_equal": ("must be at most {le}", "不能大于 {le}"),
    "greater_than": ("must be more than {gt}", "必须大于 {gt}"),
    "less_than": ("must be less than {lt}", "必须小于 {lt}"),
    "literal_error": ("must be one of {expected}", "只能是 {expected} 之一"),
    "list_type": ("must be a list", "应为列表"),
    "too_long": ("takes at most {max_length} items", "最多 {max_length} 项"),
    "too_short": ("needs at least {min_length} items", "至少需要 {min_length} 项"),
    "extra_forbidden": ("is not a known field; remove it", "是未知字段，请删除"),
    "int_from_float": ("must be a whole number", "应为整数"),
    "float_parsing": ("must be a number", "应为数字"),
    "float_type": ("must be a number", "应为数字"),
    "bool_parsing": ("must be true or false", "应为 true 或 false"),
    "model_type": ("must be an object of settings", "应为一组设置（对象）"),
    "dict_type": ("must be an object", "应为对象"),
}


def reason(error: dict) -> tuple[str, str]:
    """(English, Chinese) of what is wrong with the value, without naming the field."""
    context = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    kind = error["type"]
    if kind == "string_too_short" and context.get("min_length") == "1":
        kind = "missing"  # an empty field: "is required" reads better than "at least 1 characters"
    if kind == "too_short" and context.get("min_length") == "1":
        return "needs at least 1 item", "至少需要 1 项"  # not "1 items"
    fallback = (error["msg"].removeprefix("Value error, "), "不正确")
    en, zh = REASONS.get(kind, fallback)
    try:
        return en.format(**context), zh.format(**context)
    except (KeyError, IndexError):
        return fallback


def describe(error: dict) -> tuple[str, str, str]:
    """(field path, English sentence, Chinese sentence) of one pydantic error."""
    loc = [str(p) for p in error["loc"]]
    path = ".".join(loc) or "body"
    leaf = next((p for p in reversed(loc) if not p.isdigit()), path)
    en_label, zh_label = LABELS.get(leaf, (path, path))
    en, zh = reason(error)
    return path, f"{en_label} {en}", f"{zh_label}{zh}" if leaf in LABELS else f"{path} {zh}"
