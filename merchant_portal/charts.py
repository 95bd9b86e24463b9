"""Charts as inline SVG: no script, no external files, text in the viewer's language.

Presentation attributes only (the content security policy allows no inline style).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

COLORS = ("#0b5cad", "#1f7a3d", "#9a5b00", "#b42318", "#52606d", "#6b3fa0")


def bars(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    maximum: float | None = None,
    color: str = COLORS[0],
) -> Markup:
    """A horizontal bar chart: one labelled bar per row, its value at the end."""
    width, label_width, bar_height, gap = 560, 190, 22, 10
    height = max(1, len(rows)) * (bar_height + gap) + 10
    top = maximum or max((value for _, value in rows), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(rows):
        y = 5 + index * (bar_height + gap)
        length = (width - label_width - 70) * (value / top)
        shown = f"{value:g}{unit}"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" font-size="13" '
            f'fill="#1f2933">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{max(length, 1):.1f}" height="{bar_height}" '
            f'rx="3" fill="{color}"><title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 16}" font-size="13" '
            f'fill="#1f2933">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value in it went through escape())


def stacked(
    rows: Sequence[tuple[str, Sequence[tuple[str, int]]]], *, title: str, legend: Sequence[str]
) -> Markup:
    """One horizontal bar per row, split into coloured parts (e.g. outcomes), with a legend."""
    width, label_width, bar_height, gap = 560, 190, 22, 10
    height = max(1, len(rows)) * (bar_height + gap) + 40
    top = max((sum(v for _, v in parts) for _, parts in rows), default=0) or 1
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for index, (label, parts) in enumerate(rows):
        y = 5 + index * (bar_height + gap)
        x = float(label_width)
        out.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" font-size="13" '
            f'fill="#1f2933">{escape(label)}</text>'
        )
        for part_index, (name, value) in enumerate(parts):
            length = (width - label_width - 40) * value / top
            if value:
                out.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{bar_height}" '
                    f'fill="{COLORS[(part_index + 1) % len(COLORS)]}"><title>{escape(label)} · '
                    f"{escape(name)}: {value}</title></rect>"
                )
            x += length
        out.append(
            f'<text x="{x + 6:.1f}" y="{y + 16}" font-size="13" fill="#1f2933">'
            f"{sum(v for _, v in parts)}</text>"
        )
    y = height - 18
    x = float(label_width)
    for part_index, name in enumerate(legend):
        out.append(
            f'<rect x="{x:.1f}" y="{y}" width="12" height="12" '
            f'fill="{COLORS[(part_index + 1) % len(COLORS)]}"/>'
            f'<text x="{x + 16:.1f}" y="{y + 11}" font-size="12" fill="#52606d">'
            f"{escape(name)}</text>"
        )
        x += 24 + 8 * len(name) + (6 * sum(1 for c in name if ord(c) > 0x2E80))
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 (every value in it went through escape())
