"""Colours, fonts and text helpers shared by every chart.

Plotly renders a subset of HTML in labels, tick labels and hover text, so every string that
comes from data goes through :func:`plot_text` (``<``, ``>`` and ``&`` become entities,
which Plotly displays literally instead of parsing as tags).
"""

from __future__ import annotations

import html
import math
import textwrap

FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

CHANNEL_COLORS = {
    "web": "#4C78A8",
    "chat": "#B279A2",
    "call": "#9D755D",
}
FALLBACK_COLORS = ("#72B7B2", "#EECA3B", "#FF9DA6", "#54A24B", "#BAB0AC", "#439894")
OTHER_COLOR = "#A0A0A0"
WARNING_COLOR = "#D62728"
ESCALATION_COLOR = "#F58518"
GOOD_COLOR = "#2CA02C"
MUTED_COLOR = "#D9D9D9"
TEXT_COLOR = "#222222"


def channel_color(channel: str | None) -> str:
    """A stable colour per channel: the known three, then a fixed palette by name."""
    if not channel:
        return OTHER_COLOR
    if channel in CHANNEL_COLORS:
        return CHANNEL_COLORS[channel]
    return FALLBACK_COLORS[sum(map(ord, channel)) % len(FALLBACK_COLORS)]


def rgba(hex_color: str, alpha: float) -> str:
    """``#RRGGBB`` with an alpha, as the ``rgba()`` Plotly.js 4 accepts (integer channels)."""
    value = hex_color.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha:g})"


def plot_text(value: object) -> str:
    """Data text made safe for Plotly's pseudo-HTML: shown as typed, never parsed as a tag."""
    return html.escape("" if value is None else str(value), quote=False)


def wrap_text(value: object, width: int = 70) -> str:
    """Escaped text with ``<br>`` line breaks, for hover boxes (Plotly does not wrap them)."""
    lines = textwrap.wrap("" if value is None else str(value), width=width) or [""]
    return "<br>".join(plot_text(line) for line in lines)


def format_count(value: float | int | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{int(value):,}"


def format_percent(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def format_duration(seconds: float | None) -> str:
    """45 s, 3 min 20 s, 2 h 5 min, 3 d 4 h: as precise as a reader needs."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "n/a"
    total = round(float(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def base_layout(title: str, *, height: int = 420) -> dict[str, object]:
    """Layout every chart shares: readable fonts, white background, compact margins."""
    return {
        "template": "none",
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}},
        "font": {"family": FONT_FAMILY, "size": 12, "color": TEXT_COLOR},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "height": height,
        "margin": {"l": 20, "r": 20, "t": 60, "b": 40},
        "hoverlabel": {
            "font": {"family": FONT_FAMILY, "size": 12, "color": TEXT_COLOR},
            "bgcolor": "white",
            "bordercolor": "#999999",
            "align": "left",
        },
    }
