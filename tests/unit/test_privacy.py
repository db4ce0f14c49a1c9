"""Masking of personal data and checks on mainland phone and ID numbers."""

from __future__ import annotations

import pytest

from queue_server.core.privacy import mask_id_number, mask_name, mask_phone, valid_id_number, valid_phone

# A well-formed ID number (check digit computed by ISO 7064 MOD 11-2); not a real person.
GOOD_ID = "11010519491231002X"


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138-1234-5678") == "138****5678"


def test_mask_phone_never_leaks_short_input():
    assert mask_phone("123456") == "******"
    assert "5" not in mask_phone("12345")


def test_mask_id_number():
    assert mask_id_number("220102199001011234") == "2201**********1234"
    assert mask_id_number(" 22010219900101123x ") == "2201**********123X"


def test_mask_id_number_keeps_length_and_hides_the_birth_date():
    masked = mask_id_number("220102199001011234")
    assert len(masked) == 18
    assert "19900101" not in masked


def test_mask_short_id_entirely():
    assert mask_id_number("12345678") == "********"


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三丰", "张*丰"), ("张三", "张*"), ("欧阳娜娜", "欧**娜"), ("王", "王"), (" 李四 ", "李*")],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_name_three_characters():
    assert mask_name("张小三") == "张*三"


def test_valid_id_number_check_digit():
    assert valid_id_number(GOOD_ID)
    assert valid_id_number(GOOD_ID.lower())
    assert valid_id_number("110105194912310029") is False  # wrong check digit


@pytest.mark.parametrize(
    "value", ["", "11010519491231002", "1101051949123100211", "11010519491231002Y", "X10105194912310020"]
)
def test_valid_id_number_rejects_malformed(value):
    assert not valid_id_number(value)


def test_every_wrong_check_digit_is_rejected():
    body = GOOD_ID[:17]
    wrong = [d for d in "0123456789X" if d != GOOD_ID[17]]
    assert not any(valid_id_number(body + d) for d in wrong)


@pytest.mark.parametrize("phone", ["13812345678", "19912345678"])
def test_valid_phone(phone):
    assert valid_phone(phone)


@pytest.mark.parametrize("phone", ["12812345678", "1381234567", "138123456789", "+8613812345678"])
def test_invalid_phone(phone):
    assert not valid_phone(phone)
