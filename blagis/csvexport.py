"""CSV files for spreadsheets, safe from formula injection (OWASP « CSV injection »).

A spreadsheet computes a cell that starts with ``=``, ``+``, ``-`` or ``@`` (``-2+3`` shows 1,
``=HYPERLINK(…)`` a link), and a tab or carriage return first can hide such a start. Every text
cell starting with one of these gets a ``'`` in front, which spreadsheets read as « this is
text ». The one exception is a phone number made only of an optional leading ``+``, digits,
spaces and dots (how people write them: ``+33 6 12 34 56 78``, ``06.12.34.56.78``); anything else
in a phone cell (``-5+5``, ``+1+1``) is prefixed like any other cell. Numbers (``int``,
``float``) are written as they are: a number is not a formula.

Every CSV export goes through :func:`writer`, which applies :func:`cell` to every value, so a
new column cannot forget it; phone columns wrap their value with :func:`phone_cell`.
"""

import csv
import re

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
PHONE = re.compile(r"\+?[0-9][0-9 .]*")


class _Phone(str):
    """A phone number already checked by :func:`phone_cell`: written as it is."""


def phone_cell(value) -> str:
    """A phone number kept readable (``+33 6 12 34 56 78``) when it is only a phone number."""
    text = "" if value is None else str(value)
    if PHONE.fullmatch(text):
        return _Phone(text)
    return cell(text)


def cell(value):
    """``value`` as a CSV cell a spreadsheet shows as text, never computes."""
    if isinstance(value, _Phone):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    if text.startswith(DANGEROUS_FIRST):
        return "'" + text
    return text


class _Writer:
    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row) -> None:
        self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def writer(out, delimiter: str = ";") -> _Writer:
    """A ``csv.writer`` (semicolons, for French spreadsheets) whose every cell is safe."""
    return _Writer(out, delimiter=delimiter)
