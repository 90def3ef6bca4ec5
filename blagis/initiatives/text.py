"""Plain text shown as HTML safely: escaped first, then paragraphs and http(s) links."""

import re

from markupsafe import Markup, escape

URL_RE = re.compile(r"\bhttps?://[^\s<>\"'\x00-\x1f\x7f]+", re.IGNORECASE)
TRAILING = ".,;:!?)]}»"
PARAGRAPH_RE = re.compile(r"\n\s*\n")


def _linkify(text: str) -> Markup:
    """Escape the text; wrap each http(s) address in a nofollow link (escaped too)."""
    out: list[Markup] = []
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
        out.append(escape(text[pos : match.start()]))
        out.append(Markup('<a href="{0}" rel="nofollow ugc noopener">{0}</a>').format(stripped))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def render_plain(text: str | None) -> Markup:
    """Paragraphs on blank lines, line breaks kept, links clickable; no raw HTML ever."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return Markup("")
    paragraphs = [p.strip("\n") for p in PARAGRAPH_RE.split(text) if p.strip()]
    # Built from Markup pieces only: every piece of the text is escaped by Markup itself.
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(_linkify(line) for line in p.split("\n")))
        for p in paragraphs
    )
