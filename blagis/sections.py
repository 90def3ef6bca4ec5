"""Blocks that several domains contribute to the home page and to ``/account``.

Each domain registers, at import of its views module, a template to include and a function
that loads what the template needs with a bounded number of queries.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    order: int
    template: str
    load: Callable[..., dict]


HOME: list[Section] = []
ACCOUNT: list[Section] = []


def register(target: list[Section], order: int, template: str, load: Callable[..., dict]) -> None:
    if not any(s.template == template for s in target):
        target.append(Section(order, template, load))
        target.sort(key=lambda s: s.order)


def render_data(target: list[Section], *args) -> list[tuple[str, dict]]:
    return [(s.template, s.load(*args)) for s in target]
