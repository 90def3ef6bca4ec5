"""Phone numbers: stored as typed, sent in international form (E.164, ``+33612345678``)."""

import re

_SEPARATORS = re.compile(r"[\s.\-/()]")


def international(raw: str | None) -> str | None:
    """``raw`` in E.164 form, French numbers by default (``06 12 34 56 78`` -> ``+33612345678``);
    None when it is not a phone number."""
    if not raw:
        return None
    digits = _SEPARATORS.sub("", raw.strip())
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+"):
        number = digits[1:]
        if number.startswith("330"):  # +33 (0)6 …
            number = "33" + number[3:]
    elif re.fullmatch(r"0[1-9]\d{8}", digits):
        number = "33" + digits[1:]
    else:
        return None
    if not re.fullmatch(r"[1-9]\d{7,14}", number):
        return None
    if number.startswith("33") and len(number) != 11:
        return None
    return "+" + number


def can_take_sms(number: str | None) -> bool:
    """A French mobile (06, 07) or a number abroad (we cannot tell its kind: we trust it)."""
    if not number:
        return False
    if number.startswith("+33"):
        return number[3] in "67"
    return True
