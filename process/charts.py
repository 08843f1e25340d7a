"""Small SVG charts for printed reports: drawn here, so a PDF needs no JavaScript.

Pure: numbers and labels in, an SVG string out. Sizes are millimetres (the
viewBox is in mm and the <svg> carries its size in mm), so a chart sits in an
A4 page exactly as drawn. Values that are None (no data) get no bar and the
label "—". Labels arrive formatted by the caller (number format and language
are the page's business, not the drawing's).
"""
from __future__ import annotations

from html import escape
from typing import Sequence

BLUE, GREY, AXIS, GRID, TEXT = "#0b5cad", "#b8c0c9", "#333333", "#d9d9d9", "#000000"
FONT = "Liberation Sans, Arial, DejaVu Sans, sans-serif"
SIZE = 2.6          # text, mm (about 7.4 pt)
SMALL = 2.3


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, size: float = SIZE, anchor: str = "middle", extra: str = "") -> str:
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" '
            f'font-family="{FONT}" fill="{TEXT}"{extra}>{escape(text)}</text>')


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}mm" height="{_n(height)}mm" '
            f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def _labels(values: Sequence[float | None], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        return list(labels)
    return ["—" if v is None else f"{_n(round(v, 1))}" for v in values]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def bar_chart(categories: Sequence[str], values: Sequence[float | None], *, title: str,
              value_labels: Sequence[str] | None = None, maximum: float = 100.0, axis_suffix: str = "%",
              width: float = 180.0, height: float = 62.0) -> str:
    """Vertical bars, one per category (short category labels: step numbers, months)."""
    left, right, top, bottom = 11.0, 2.0, 5.0, 8.0
    plot_w, plot_h = width - left - right, height - top - bottom
    body = _axis(left, top, plot_w, plot_h, maximum, axis_suffix)
    count = max(1, len(categories))
    slot = plot_w / count
    bar_w = min(slot * 0.62, 14.0)
    for i, (category, value, label) in enumerate(zip(categories, values, _labels(values, value_labels))):
        cx = left + slot * (i + 0.5)
        if value is not None:
            h = plot_h * max(0.0, min(value, maximum)) / maximum
            body.append(f'<rect x="{_n(cx - bar_w / 2)}" y="{_n(top + plot_h - h)}" width="{_n(bar_w)}" '
                        f'height="{_n(h)}" fill="{BLUE}"/>')
            body.append(_text(cx, top + plot_h - h - 0.8, label, SMALL))
        else:
            body.append(_text(cx, top + plot_h - 0.8, "—", SMALL))
        body.append(_text(cx, top + plot_h + 3.6, _shorten(category, max(3, int(slot / 1.4))), SIZE))
    return _svg(width, height, body, title)


def hbar_chart(categories: Sequence[str], values: Sequence[float | None], *, title: str,
               value_labels: Sequence[str] | None = None, maximum: float = 100.0, axis_suffix: str = "%",
               width: float = 180.0, row: float = 7.0) -> str:
    """Horizontal bars, one row per category (long category labels: Bidang names)."""
    label_w, right, top, bottom = 62.0, 14.0, 2.0, 6.0
    plot_w = width - label_w - right
    height = top + bottom + row * max(1, len(categories))
    body = []
    for tick in range(0, 101, 25):
        x = label_w + plot_w * tick / 100
        body.append(f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(height - bottom)}" '
                    f'stroke="{GRID}" stroke-width="0.2"/>')
        body.append(_text(x, height - bottom + 3.4, f"{_n(maximum * tick / 100)}{axis_suffix}", SMALL))
    for i, (category, value, label) in enumerate(zip(categories, values, _labels(values, value_labels))):
        y = top + row * i
        body.append(_text(label_w - 1.5, y + row / 2 + 0.9, _shorten(category, 44), SIZE, "end"))
        if value is not None:
            w = plot_w * max(0.0, min(value, maximum)) / maximum
            body.append(f'<rect x="{_n(label_w)}" y="{_n(y + row * 0.18)}" width="{_n(w)}" '
                        f'height="{_n(row * 0.64)}" fill="{BLUE}"/>')
            body.append(_text(label_w + w + 1.2, y + row / 2 + 0.9, label, SMALL, "start"))
        else:
            body.append(_text(label_w + 1.2, y + row / 2 + 0.9, "—", SMALL, "start"))
    body.append(f'<line x1="{_n(label_w)}" y1="{_n(top)}" x2="{_n(label_w)}" y2="{_n(height - bottom)}" '
                f'stroke="{AXIS}" stroke-width="0.3"/>')
    return _svg(width, height, body, title)


def trend_chart(categories: Sequence[str], rates: Sequence[float | None], counts: Sequence[int], *, title: str,
                rate_label: str, count_label: str, width: float = 180.0, height: float = 66.0) -> str:
    """Per month: grey bars of a count (right axis) and a blue line of a rate in % (left axis)."""
    left, right, top, bottom = 11.0, 11.0, 5.0, 14.0
    plot_w, plot_h = width - left - right, height - top - bottom
    body = _axis(left, top, plot_w, plot_h, 100.0, "%")
    peak = max([c for c in counts if c] or [1])
    step = _nice_step(peak)
    ceiling = step * -(-peak // step)
    for k in range(0, int(ceiling // step) + 1):
        y = top + plot_h - plot_h * (k * step) / ceiling
        body.append(_text(left + plot_w + 1.2, y + 0.9, str(int(k * step)), SMALL, "start"))
    count = max(1, len(categories))
    slot = plot_w / count
    bar_w = min(slot * 0.55, 10.0)
    points = []
    for i, (category, rate, n) in enumerate(zip(categories, rates, counts)):
        cx = left + slot * (i + 0.5)
        if n:
            h = plot_h * n / ceiling
            body.append(f'<rect x="{_n(cx - bar_w / 2)}" y="{_n(top + plot_h - h)}" width="{_n(bar_w)}" '
                        f'height="{_n(h)}" fill="{GREY}"/>')
        if rate is not None:
            points.append((cx, top + plot_h - plot_h * max(0.0, min(rate, 100.0)) / 100))
        else:
            points.append(None)
        body.append(_text(cx, top + plot_h + 3.4, _shorten(category, max(3, int(slot / 1.3))), SMALL))
    # The line is broken where a month has no rate, and each known month gets a dot.
    run: list[tuple[float, float]] = []
    for point in points + [None]:
        if point is None:
            if len(run) > 1:
                body.append(f'<polyline points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in run)}" fill="none" '
                            f'stroke="{BLUE}" stroke-width="0.5"/>')
            run = []
        else:
            run.append(point)
    for point in points:
        if point is not None:
            body.append(f'<circle cx="{_n(point[0])}" cy="{_n(point[1])}" r="0.8" fill="{BLUE}"/>')
    legend_y = height - 2.5
    body.append(f'<rect x="{_n(left)}" y="{_n(legend_y - 2)}" width="4" height="2.2" fill="{GREY}"/>')
    body.append(_text(left + 5, legend_y, count_label, SMALL, "start"))
    middle = left + plot_w / 2
    body.append(f'<line x1="{_n(middle)}" y1="{_n(legend_y - 0.9)}" x2="{_n(middle + 4)}" y2="{_n(legend_y - 0.9)}" '
                f'stroke="{BLUE}" stroke-width="0.5"/>')
    body.append(_text(middle + 5, legend_y, rate_label, SMALL, "start"))
    return _svg(width, height, body, title)


def _axis(left: float, top: float, plot_w: float, plot_h: float, maximum: float, suffix: str) -> list[str]:
    body = []
    for tick in range(0, 101, 25):
        y = top + plot_h - plot_h * tick / 100
        body.append(f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(left + plot_w)}" y2="{_n(y)}" '
                    f'stroke="{GRID if tick else AXIS}" stroke-width="{0.2 if tick else 0.3}"/>')
        body.append(_text(left - 1.2, y + 0.9, f"{_n(maximum * tick / 100)}{suffix}", SMALL, "end"))
    return body


def _nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if peak / step <= 5:
            return step
    return 10000
