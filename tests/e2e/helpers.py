"""Helpers for the browser tests: axe audit, focus checks, screenshots, translated texts."""

import gettext
import os
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def missing(what: str) -> None:
    """Skip on a developer's machine without the browser tools; fail in CI (CI=true)."""
    message = f"{what} (run `make e2e-deps`)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@cache
def _catalogue(lang: str):
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation("messages", ROOT / "blagis" / "translations", languages=[lang])


def tr(lang: str, message: str) -> str:
    """The text the site shows for an English source string, in ``lang`` (from the catalogue)."""
    return _catalogue(lang).gettext(message)


def trn(lang: str, singular: str, plural: str, num: int) -> str:
    """The text shown for ``ngettext(singular, plural, num)`` in ``lang``."""
    return _catalogue(lang).ngettext(singular, plural, num) % {"num": num}


@cache
def axe_source() -> str:
    if not AXE_JS.exists():
        missing(f"axe-core is not installed at {AXE_JS}")
    return AXE_JS.read_text(encoding="utf-8")


AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

_RUN_AXE = """async (options) => {
  const results = await axe.run(document, options);
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({
      target: n.target.join(" "), html: n.html, summary: n.failureSummary,
    })),
  }));
}"""


def axe_violations(page) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1 A and AA, colour contrast included) on the current page.

    The page's CSP forbids inline scripts, so ``add_script_tag(content=...)`` would be
    refused; ``evaluate`` runs the library through the DevTools protocol instead, which the
    page's CSP does not govern, and the CSP stays on for everything else.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(_RUN_AXE, AXE_OPTIONS)


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"]:
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            for reason in (node["summary"] or "").splitlines():
                lines.append(f"        {reason}")
    return "\n".join(lines)


def assert_accessible(page, label: str = "") -> None:
    violations = axe_violations(page)
    where = label or page.url
    assert not violations, f"axe: {len(violations)} violation(s) on {where}:\n" + format_violations(
        violations
    )


def assert_no_problems(page) -> None:
    assert not page.problems, "\n".join(page.problems)


_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  // The outline is drawn outside the element: compare it with the background around it.
  let around = el.parentElement, bg = "rgb(255, 255, 255)";
  while (around) {
    const c = getComputedStyle(around).backgroundColor;
    if (rgb(c).length === 3 || (rgb(c).length === 4 && rgb(c)[3] > 0)) { bg = c; break; }
    around = around.parentElement;
  }
  const s = getComputedStyle(el);
  const [l1, l2] = [luminance(rgb(s.outlineColor)), luminance(rgb(bg))].sort((a, b) => b - a);
  const r = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name"),
    text: (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 60),
    href: el.getAttribute("href"),
    outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth) || 0,
    outlineContrast: (l1 + 0.05) / (l2 + 0.05),
    boxShadow: s.boxShadow, visibility: s.visibility, opacity: parseFloat(s.opacity),
    x: r.x, y: r.y, w: r.width, h: r.height, vw: window.innerWidth, vh: window.innerHeight,
  };
}"""


def focused(page) -> dict | None:
    return page.evaluate(_FOCUS)


def assert_focus_visible(page) -> dict:
    """The focused element is on screen and shows a focus indicator (outline or shadow),
    an outline contrasting at least 3:1 with the background around it."""
    info = focused(page)
    assert info is not None, "nothing has the focus"
    desc = f"<{info['tag']} id={info['id']!r} name={info['name']!r}> {info['text']!r}"
    assert info["w"] > 0 and info["h"] > 0, f"focused element has no size: {desc}"
    assert info["visibility"] == "visible" and info["opacity"] > 0, f"focus is hidden: {desc}"
    on_screen = (
        info["y"] + info["h"] > 0
        and info["y"] < info["vh"]
        and info["x"] + info["w"] > 0
        and info["x"] < info["vw"]
    )
    assert on_screen, f"focused element is off screen: {desc} at {info}"
    outline = info["outlineStyle"] != "none" and info["outlineWidth"] >= 2
    indicator = outline or info["boxShadow"] not in ("", "none")
    assert indicator, f"no visible focus indicator on {desc}: {info}"
    if outline:  # WCAG 1.4.11: a focus outline contrasts 3:1 with what surrounds it
        contrast = info["outlineContrast"]
        assert contrast >= 3, f"focus outline contrast {contrast:.2f}:1 < 3:1 on {desc}"
    return info


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artefact (test-artifacts/, not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{page.lang}-{page.viewport_name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


_STRUCTURE = """() => ({
  title: document.title,
  headings: [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map(h => +h.tagName[1]),
  mains: document.querySelectorAll("main").length,
  banners: document.querySelectorAll("header[role=banner]").length,
  footers: document.querySelectorAll("footer[role=contentinfo]").length,
  duplicateIds: [...document.querySelectorAll("[id]")].map(e => e.id)
    .filter((id, i, ids) => ids.indexOf(id) !== i),
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
})"""


def assert_page_structure(page) -> None:
    """What axe leaves to people (RGAA 8.5, 9.1, 12.6, WCAG 1.4.10): a title naming the page,
    one h1 first and no skipped heading level, one main/banner/contentinfo, no id used twice
    (RGAA 8.2: labels and ARIA references need unique ids), and no sideways scrolling
    (reflow) at the page's width."""
    s = page.evaluate(_STRUCTURE)
    assert s["title"].endswith(" · Blagis") and len(s["title"]) > len(" · Blagis"), s["title"]
    levels = s["headings"]
    assert levels and levels[0] == 1 and levels.count(1) == 1, f"headings {levels}"
    skipped = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
    assert not skipped, f"heading levels skipped: {skipped} in {levels}"
    assert (s["mains"], s["banners"], s["footers"]) == (1, 1, 1), s
    assert not s["duplicateIds"], f"ids used more than once: {s['duplicateIds']}"
    assert s["scrollWidth"] <= s["clientWidth"], (
        f"the page scrolls sideways: {s['scrollWidth']} px wide in {s['clientWidth']} px"
    )


def confirmation_path(app, email: str) -> str:
    """The confirmation link of the welcome mail sent to ``email``, read from the outbox (the
    live server shares the test database), as a path to open in the browser."""
    import re

    from sqlalchemy import select

    from blagis.extensions import db
    from blagis.models import OutboxMessage

    with app.app_context():
        body = db.session.scalars(
            select(OutboxMessage.body_text)
            .where(OutboxMessage.recipient == email, OutboxMessage.template == "account_created")
            .order_by(OutboxMessage.id.desc())
        ).first()
        db.session.remove()
    assert body, f"no confirmation mail for {email}"
    return re.search(r"https?://[^/\s]+(/auth/confirm/\S+)", body).group(1)
