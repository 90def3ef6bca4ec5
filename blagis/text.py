"""Cleaning text typed into single-line fields, and text written to other formats.

A title, a place, a name or a phone number is one line: a carriage return, a line feed or any
other control character in it can only come from a hand-made request (a browser's one-line
input cannot send one) and breaks what is built from the value later — an iCalendar line, a
mail header, a CSV row. :func:`single_line` is the one WTForms filter every such field uses
(``filters=[single_line]``): each run of control characters becomes one space, then the ends
are trimmed, so the value saved is the line a person would have typed.
"""

import re

# C0 and C1 control characters (tab, CR, LF, NUL, DEL…) and the Unicode line and paragraph
# separators, which some readers also break lines on.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# The same but the line feed, for multi-line text written to other formats.
_CONTROLS_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]+")


def single_line(value):
    """One line of text: runs of control characters become a space, ends trimmed.

    Anything that is not a string (None for an empty field) is returned unchanged, as WTForms
    filters must.
    """
    if not isinstance(value, str):
        return value
    return _CONTROLS.sub(" ", value).strip()


def multi_line(value: str | None) -> str:
    """Text whose lines are kept (``\\n``), other control characters removed."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return _CONTROLS_BUT_NEWLINE.sub("", text)
