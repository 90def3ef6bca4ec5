"""SMS text: GSM 03.38 where possible (160 characters a segment, 153 when split), UCS-2
otherwise (70, split 67); a message is kept to at most two segments."""

import math
import unicodedata

from smpplib.gsm import GSM_CHARACTER_TABLE

MAX_SEGMENTS = 2
# The basic GSM 03.38 set (one septet each). The extension table (€, [, ], {, }, ~, |, \, ^)
# costs two septets and may be cut between segments: those are replaced below instead.
# smpplib's table uses ` as a filler (the GSM set has no backtick) and \x1b as the escape.
GSM_BASIC = set(GSM_CHARACTER_TABLE[:128]) - {"`", "\x1b", "\r"}

# French (and a little more) outside GSM 03.38, by the nearest GSM text.
_REPLACE = {
    "â": "a", "ê": "e", "î": "i", "ô": "o", "û": "u", "ë": "e", "ï": "i", "ÿ": "y",
    "ç": "c", "œ": "oe", "Œ": "OE", "À": "A", "Â": "A", "È": "E", "Ê": "E", "Ë": "E",
    "Î": "I", "Ï": "I", "Ô": "O", "Ù": "U", "Û": "U", "á": "a", "í": "i", "ó": "o",
    "ú": "u", "Á": "A", "Í": "I", "Ó": "O", "Ú": "U", "ã": "a", "õ": "o",
    "’": "'", "‘": "'", "‛": "'", "`": "'", "´": "'", "“": '"', "”": '"', "«": '"', "»": '"',
    "–": "-", "—": "-", "‑": "-", "…": "...", "€": "EUR", "[": "(", "]": ")", "{": "(",
    "}": ")", "~": "-", "|": "/", "\\": "/", "^": "'", "\u00a0": " ", "\u202f": " ",
    "\u2009": " ", "\t": " ",
}  # fmt: skip


def gsm(text: str) -> str | None:
    """``text`` in the GSM 03.38 basic set (French accents outside it replaced), or None when
    some character has no GSM equivalent (then the message goes as UCS-2)."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char in GSM_BASIC:
            out.append(char)
        elif char in _REPLACE:
            out.append(_REPLACE[char])
        else:
            return None
    return "".join(out)


def prepare(text: str) -> str:
    """The text to send: GSM when it can be, else unchanged (UCS-2)."""
    text = " ".join(part for part in text.replace("\r", "").split(" ") if part != "").strip()
    return gsm(text) or text


def segments(text: str) -> int:
    """How many SMS segments ``text`` (as returned by :func:`prepare`) takes."""
    if gsm(text) == text:
        single, part, length = 160, 153, len(text)
    else:
        single, part, length = 70, 67, len(text.encode("utf-16-be")) // 2
    return 1 if length <= single else math.ceil(length / part)


def limit(text: str) -> int:
    """The most characters two segments hold in the encoding ``text`` needs."""
    return MAX_SEGMENTS * 153 if gsm(text) == text else MAX_SEGMENTS * 67


def shorten(value: str, size: int) -> str:
    """``value`` cut to ``size`` characters at most, with "..." when cut."""
    value = " ".join((value or "").split())
    if len(value) <= size:
        return value
    return value[: max(size - 3, 1)].rstrip() + "..."
