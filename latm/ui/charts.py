"""The picture LATM exists for, as inline SVG (no JavaScript, no download): cumulative cost against
questions answered, LATM (making once, then answering) against the maker model alone, with the
break-even marked. Drawn for one tool, or for a whole cache (the tools' costs added up)."""

import html
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 560, 240, 44


@dataclass
class CostLines:
    """LATM: ``making`` then ``per_question`` each; the maker alone: ``baseline`` each (dollars or tokens)."""

    making: float
    per_question: float
    baseline: float
    answered: int  # questions answered so far (marked on the x axis)
    unit: str = "$"

    @property
    def break_even(self) -> float | None:
        margin = self.baseline - self.per_question
        return self.making / margin if margin > 0 else None


def _money(value: float, unit: str) -> str:
    return f"${value:.4g}" if unit == "$" else f"{value:,.0f} {unit}"


def cost_chart(lines: CostLines, title: str) -> str:
    """An SVG chart of the two cost lines, the break-even and the questions answered so far."""
    even = lines.break_even
    span = max(10.0, lines.answered * 1.2, (even or 0) * 2)
    top = max(lines.making + lines.per_question * span, lines.baseline * span, 1e-9)

    def x(q: float) -> float:
        return PAD + (WIDTH - 2 * PAD) * q / span

    def y(v: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top

    latm = f"{x(0):.1f},{y(lines.making):.1f} {x(span):.1f},{y(lines.making + lines.per_question * span):.1f}"
    alone = f"{x(0):.1f},{y(0):.1f} {x(span):.1f},{y(lines.baseline * span):.1f}"
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'aria-label="{html.escape(title)}">',
        f"<title>{html.escape(title)}</title>",
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<polyline class="latm" points="{latm}" fill="none" stroke="#1b7f3b" stroke-width="2"/>',
        f'<polyline class="alone" points="{alone}" fill="none" stroke="#b3261e" stroke-width="2" '
        'stroke-dasharray="6 4"/>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 12}" text-anchor="end" font-size="11">questions answered '
        f"(0 to {span:,.0f})</text>",
        f'<text x="{PAD}" y="{PAD - 10}" font-size="11">cumulative cost, up to {html.escape(_money(top, lines.unit))}'
        "</text>",
        f'<text x="{WIDTH - PAD}" y="{PAD - 10}" text-anchor="end" font-size="11">'
        '<tspan fill="#1b7f3b">LATM</tspan> / <tspan fill="#b3261e">the maker model alone</tspan></text>',
    ]
    if lines.answered:
        parts.append(
            f'<line x1="{x(lines.answered):.1f}" y1="{PAD}" x2="{x(lines.answered):.1f}" y2="{HEIGHT - PAD}" '
            'stroke="#999" stroke-dasharray="2 3"/>'
            f'<text x="{x(lines.answered) + 3:.1f}" y="{HEIGHT - PAD - 4}" font-size="10">answered so far: '
            f"{lines.answered:,}</text>"
        )
    if even is not None:
        parts.append(
            f'<line class="break-even" x1="{x(even):.1f}" y1="{PAD}" x2="{x(even):.1f}" y2="{HEIGHT - PAD}" '
            'stroke="#333" stroke-width="1.5"/>'
            f'<text x="{x(even) + 3:.1f}" y="{PAD + 12}" font-size="11">break-even: {even:,.1f} questions</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
