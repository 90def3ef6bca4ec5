"""Plain text shown as HTML safely: escaped first, then paragraphs and http(s) links."""

import re

from markupsafe import Markup, escape

URL_RE = re.compile(r"\bhttps?://[^\s<>\"'\x00-\x1f\x7f]+", re.IGNORECASE)
TRAILING = ".,;:!?)]}»"
PARAGRAPH_RE = re.compile(r"\n\s*\n")


def _linkify(text: str) -> str:
    """Escape the text; wrap each http(s) address in a nofollow link (escaped too)."""
    out: list[str] = []
    pos = 0
    for match in URL_RE.finditer(text):
        url = match.group(0)
        stripped = url.rstrip(TRAILING)
        # Keep a closing bracket that belongs to the address, e.g. a Wikipedia link.
        while (
            stripped != url
            and url[len(stripped)] == ")"
            and stripped.count("(") > stripped.count(")")
        ):
            stripped += ")"
        end = match.start() + len(stripped)
        out.append(str(escape(text[pos : match.start()])))
        out.append(
            f'<a href="{escape(stripped)}" rel="nofollow ugc noopener">{escape(stripped)}</a>'
        )
        pos = end
    out.append(str(escape(text[pos:])))
    return "".join(out)


def render_plain(text: str | None) -> Markup:
    """Paragraphs on blank lines, line breaks kept, links clickable; no raw HTML ever."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return Markup("")
    paragraphs = [p.strip("\n") for p in PARAGRAPH_RE.split(text) if p.strip()]
    html = "\n".join(
        "<p>" + "<br>\n".join(_linkify(line) for line in p.split("\n")) + "</p>" for p in paragraphs
    )
    return Markup(html)  # noqa: S704 - every piece above is escaped
