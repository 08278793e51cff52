"""Charts as inline SVG text (no script, no external file): bars, diverging bars, grouped bars,
a heat map and lines. Each returns one `<svg class="chart">` element with a title for screen
readers; labels are escaped."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.page.markup import html_text

POSITIVE = "#2e7d32"
NEGATIVE = "#c62828"
SERIES = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf")
FONT = 'font-family="sans-serif" font-size="12"'
Format = Callable[[float], str]


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" {FONT}>'
        f"<title>{html_text(title)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{html_text(text)}</text>'


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0.5):.1f}" '
        f'height="{height:.1f}" fill="{fill}"/>'
    )


def diverging_bars(
    rows: Sequence[tuple[str, float]], title: str, fmt: Format, width: int = 720
) -> str:
    """One horizontal bar per row, right of the axis when positive, left when negative."""
    label_width, value_width, bar_height = 220, 120, 20
    plot = width - label_width - value_width
    largest = max((abs(v) for _, v in rows), default=0.0)
    scale = (plot / 2) / largest if largest else 0.0
    axis = label_width + plot / 2
    body = []
    for i, (label, value) in enumerate(rows):
        y = 10 + i * (bar_height + 6)
        length = abs(value) * scale
        x = axis if value >= 0 else axis - length
        body.append(_text(label_width - 8, y + 14, label, "end"))
        body.append(_rect(x, y, length, bar_height, POSITIVE if value >= 0 else NEGATIVE))
        body.append(_text(width - value_width + 8, y + 14, fmt(value)))
    height = 20 + len(rows) * (bar_height + 6)
    body.append(f'<line x1="{axis}" y1="4" x2="{axis}" y2="{height - 6}" stroke="#555"/>')
    return _svg(width, height, title, body)


def bars(rows: Sequence[tuple[str, float]], title: str, fmt: Format, width: int = 720) -> str:
    """One horizontal bar per row from a common left axis (amounts that are not negative: a
    payment per level, cases per category); a negative value draws no bar."""
    label_width, value_width, bar_height = 220, 140, 20
    plot = width - label_width - value_width
    largest = max((v for _, v in rows), default=0.0)
    scale = plot / largest if largest > 0 else 0.0
    body = []
    for i, (label, value) in enumerate(rows):
        y = 10 + i * (bar_height + 6)
        body.append(_text(label_width - 8, y + 14, label, "end"))
        body.append(_rect(label_width, y, max(value, 0) * scale, bar_height, SERIES[0]))
        body.append(_text(width - value_width + 8, y + 14, fmt(value)))
    height = 20 + len(rows) * (bar_height + 6)
    body.append(
        f'<line x1="{label_width}" y1="4" x2="{label_width}" y2="{height - 6}" stroke="#555"/>'
    )
    return _svg(width, height, title, body)


def grouped_bars(
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    title: str,
    fmt: Format,
    width: int = 720,
) -> str:
    """For each group a diverging bar per series (e.g. per clause, one bar per hospital level),
    with a legend."""
    label_width, value_width, bar_height = 260, 120, 12
    plot = width - label_width - value_width
    largest = max((abs(v) for _, values in series for v in values), default=0.0)
    scale = (plot / 2) / largest if largest else 0.0
    axis = label_width + plot / 2
    body = []
    legend_y = 14
    for k, (name, _) in enumerate(series):
        x = label_width + k * 110
        body.append(_rect(x, legend_y - 10, 10, 10, SERIES[k % len(SERIES)]))
        body.append(_text(x + 14, legend_y, name))
    y = legend_y + 12
    for g, group in enumerate(groups):
        y += 8
        body.append(_text(label_width - 8, y + 10, _clip(group, 34), "end"))
        for k, (_, values) in enumerate(series):
            value = values[g]
            length = abs(value) * scale
            color = SERIES[k % len(SERIES)]
            body.append(_rect(axis if value >= 0 else axis - length, y, length, bar_height, color))
            body.append(_text(width - value_width + 8, y + 10, fmt(value)))
            y += bar_height + 2
    height = int(y + 10)
    body.append(f'<line x1="{axis}" y1="{legend_y + 14}" x2="{axis}" y2="{y}" stroke="#555"/>')
    return _svg(width, height, title, body)


def heatmap(
    rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[int]], title: str
) -> str:
    """A matrix of counts (e.g. category transitions), darker for more; the diagonal in grey."""
    cell, left, top = 64, 100, 70
    largest = max(
        (v for r, row in enumerate(values) for c, v in enumerate(row) if r != c), default=0
    )
    body = [_text(left + len(columns) * cell / 2, 14, "new version →", "middle")]
    for c, name in enumerate(columns):
        body.append(_text(left + c * cell + cell / 2, top - 8, name, "middle"))
    for r, name in enumerate(rows):
        body.append(_text(left - 8, top + r * cell + cell / 2 + 4, name, "end"))
        for c, value in enumerate(values[r]):
            diagonal = rows[r] == columns[c]
            shade = 0.0 if diagonal or not largest else 0.15 + 0.85 * value / largest
            fill = "#eeeeee" if diagonal else f"rgba(198,40,40,{shade:.2f})" if value else "#fafafa"
            body.append(_rect(left + c * cell, top + r * cell, cell - 2, cell - 2, fill))
            body.append(
                _text(
                    left + c * cell + cell / 2,
                    top + r * cell + cell / 2 + 4,
                    f"{value:,}",
                    "middle",
                )
            )
    body.append(_text(8, top - 8, "base ↓"))
    width, height = left + len(columns) * cell + 10, top + len(rows) * cell + 10
    return _svg(width, height, title, body)


def lines(
    xs: Sequence[float],
    series: Sequence[tuple[str, Sequence[float | None]]],
    title: str,
    x_label: str,
    fmt: Format,
    width: int = 560,
    *,
    from_zero: bool = True,
) -> str:
    """One line per series over the values of `xs` (a parameter, or the months of a year), with
    points and a legend; a missing value (None) leaves a gap. The y axis starts at 0 unless
    `from_zero` is false (then it spans the values)."""
    left, right, top, bottom = 110, 20, 30, 40
    height = 260
    values = [v for _, ys in series for v in ys if v is not None]
    floor = [0.0] if from_zero or not values else []
    low, high = min([*values, *floor]), max([*values, *floor])
    span = (high - low) or 1.0
    x_span = (max(xs) - min(xs)) or 1.0

    def px(x: float) -> float:
        return left + (x - min(xs)) / x_span * (width - left - right)

    def py(y: float) -> float:
        return top + (high - y) / span * (height - top - bottom)

    body = [
        f'<line x1="{left}" y1="{py(0):.1f}" x2="{width - right}" y2="{py(0):.1f}" stroke="#999"/>',
        _text(left - 6, py(high) + 4, fmt(high), "end"),
        _text(left - 6, py(low) + 4, fmt(low), "end"),
        _text((left + width - right) / 2, height - 8, x_label, "middle"),
    ]
    for x in xs:
        body.append(_text(px(x), height - bottom + 16, f"{x:g}", "middle"))
    for k, (name, ys) in enumerate(series):
        color = SERIES[k % len(SERIES)]
        for run in _runs(xs, ys):
            points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in run)
            body.append(
                f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
            body += [
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>' for x, y in run
            ]
        body.append(_rect(left + k * 110, 8, 10, 10, color))
        body.append(_text(left + k * 110 + 14, 18, name))
    return _svg(width, height, title, body)


def _runs(xs: Sequence[float], ys: Sequence[float | None]) -> list[list[tuple[float, float]]]:
    """The points of a line, split where a value is missing."""
    found: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            found.append([])
        else:
            found[-1].append((x, y))
    return [run for run in found if run]


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


__all__ = ["bars", "diverging_bars", "grouped_bars", "heatmap", "lines"]
