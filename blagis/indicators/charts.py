"""Small bar charts drawn on the server as SVG geometry (no JavaScript, no inline style)."""

WIDTH, HEIGHT = 320, 160
TOP, BOTTOM, SIDE = 16, 28, 8


def bar_chart(points: list[tuple[str, float]]) -> dict:
    """Geometry of one bar per (label, value): the template draws rects and texts from it."""
    n = max(len(points), 1)
    highest = max((v for _, v in points), default=0) or 1
    slot = (WIDTH - 2 * SIDE) / n
    bar = slot * 0.6
    usable = HEIGHT - TOP - BOTTOM
    bars = []
    for i, (label, value) in enumerate(points):
        h = round(usable * value / highest, 1)
        x = round(SIDE + i * slot + (slot - bar) / 2, 1)
        bars.append(
            {
                "label": label,
                "value": value,
                "x": x,
                "y": round(TOP + usable - h, 1),
                "width": round(bar, 1),
                "height": h,
                "cx": round(x + bar / 2, 1),
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "baseline": TOP + usable,
        "label_y": HEIGHT - 8,
        "bars": bars,
    }
