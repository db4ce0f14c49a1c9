"""Masking of personal data: no display, ticket or log ever shows it whole."""

from __future__ import annotations

import re


def mask_phone(phone: str) -> str:
    """138****5678: first three and last four digits."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(id_number: str) -> str:
    """2201**********1234: first four and last four characters of an ID number."""
    value = id_number.strip().upper()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(name: str) -> str:
    """张*三 (three or more characters), 张* (two), kept only at the ends."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def valid_phone(phone: str) -> bool:
    return re.fullmatch(r"1[3-9]\d{9}", phone) is not None


def valid_id_number(id_number: str) -> bool:
    """Mainland resident ID: 18 characters with the ISO 7064 check digit."""
    value = id_number.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(value[:17], weights, strict=True))
    return "10X98765432"[total % 11] == value[17]
