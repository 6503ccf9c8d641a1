"""One self-contained HTML dashboard per run, and an index of past runs.

The file works opened from disk with no network: plotly.js is embedded once, every chart is
stored as JSON in the page and drawn by a few lines of inline script, and a Content Security
Policy forbids loading anything from elsewhere. Segment views (device, new/returning) are
pre-rendered and switched with a ``<select>``; hidden views are drawn on first display.

Safety: text from data (touchpoints, topics, explanations, segment values) is escaped for
HTML and, inside charts, for Plotly's pseudo-HTML; chart JSON is embedded with ``<``, ``>``
and ``&`` as ``\\u`` escapes, so no data can close a tag. Only aggregate counts are shown:
no customer keys, identifiers, or journey/session ids (they embed the customer key).

Files are written atomically (temp file in the same folder, fsync, rename), so a crash
leaves the previous dashboard intact; the temp file a killed write leaves behind is removed
by the next dashboard written to that folder. Next to ``dashboard-<run_id>.html`` the run's
headline numbers are stored as ``dashboard-<run_id>.json`` for the next run's comparison.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # POSIX only: elsewhere a write's temp files are told apart by their age only
    fcntl = None  # type: ignore[assignment]

import duckdb
import pandas as pd
import plotly.graph_objects as go
import plotly.offline
import plotly.utils

from journey_mining.config import Config
from journey_mining.funnel import FunnelUnits, funnel_of, prepare_funnel
from journey_mining.headline import headline_numbers
from journey_mining.segments import Filter, units_sql
from journey_mining.viz import charts, sankey, style

SANKEY_STEPS = 10
SANKEY_TOP_K = 10
SEGMENT_SWITCH = {"device": "Device", "customer_type": "Customer"}
MAX_SEGMENT_VALUES = 8
FRICTION_ROWS = 25
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
DASHBOARD_TEMP_PATTERN = re.compile(
    r"^\.dashboard-[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.(?:html|json)\.[a-z0-9_]{8}\.tmp$"
)
"""The temp files ``write_atomic`` makes for a page or its record (``tempfile.mkstemp`` names)."""

# key, label, format, which direction is better, what it measures
HEADLINE = (
    ("customers", "Customers", "count", None, "distinct customers after identity stitching"),
    ("sessions", "Sessions", "count", None, "visits and contacts, split by the session timeout"),
    ("journeys", "Journeys", "count", None, "sessions up to a conversion or a long inactivity"),
    ("conversion_rate", "Conversion rate", "rate", "up", "share of journeys with a conversion"),
    (
        "cart_abandonment_rate",
        "Cart abandonment",
        "rate",
        "down",
        "sessions that reached the cart but did not convert",
    ),
    (
        "escalation_rate",
        "Escalation rate",
        "rate",
        "down",
        "help-page visits followed by a chat or call (from the friction analysis)",
    ),
    ("median_call_wait_seconds", "Median call wait", "seconds", "down", "time in the call queue"),
)


@dataclass(frozen=True)
class SegmentView:
    """One pre-rendered view: all sessions, or one segment value."""

    key: str  # an id we make (seg-0, seg-1, ...), never data
    label: str
    where: Filter | None
    sessions: int


def _json_for_script(value: Any) -> str:
    """JSON that cannot end a ``<script>`` element or open a comment, whatever the data.

    Inside a script element only ``</`` (closing tag) and ``<!`` (comment states) are special
    to the HTML parser; both are escaped (``\\/`` and ``\\u003c`` are plain JSON escapes).
    """
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text.replace("</", "<\\/").replace("<!", "\\u003c!")


def segment_views(con: duckdb.DuckDBPyConnection, units_table: str | None = None) -> list[SegmentView]:
    """All sessions, then each device and new/returning value (largest first).

    ``units_table``: one row per session with a column per segment of ``SEGMENT_SWITCH``
    (``sankey.prepare_rows`` makes it), read instead of grouping ``session_touchpoints`` again.
    """
    if units_table is None:
        total = con.execute("select count(distinct session_id) from session_touchpoints").fetchone()
    else:
        total = con.execute(f"select count(*) from {units_table}").fetchone()
    views = [SegmentView("seg-0", "All sessions", None, int(total[0]) if total else 0)]
    for segment, title in SEGMENT_SWITCH.items():
        if units_table is None:
            sql, params = units_sql("session", Filter(), segment)
        else:  # segment is a key of SEGMENT_SWITCH, a column name we chose: never data
            sql, params = f"select {segment} as segment from {units_table}", []
        rows = con.execute(
            f"select segment, count(*) from ({sql}) group by segment order by count(*) desc, segment limit ?",
            [*params, MAX_SEGMENT_VALUES],
        ).fetchall()
        for value, count in rows:
            views.append(
                SegmentView(
                    f"seg-{len(views)}",
                    f"{title}: {value}",
                    Filter(segment=segment, segment_value=str(value)),
                    int(count),
                )
            )
    return views


class _Maps:
    """What every segment view of one dashboard build shares, computed once.

    The Sankey step rows of all sessions (one pass over ``session_touchpoints``, with each
    session's segment values), then the maps of all values of a segment from one pass over
    those rows. The funnel steps are matched once per session (one more pass, keeping each
    session's segment values and how far it got), and the funnels of all values of a segment
    come from one query over those rows. Each view then takes its own from these.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, config: Config) -> None:
        self.con = con
        self.config = config
        self.rows = sankey.prepare_rows(
            con, steps=SANKEY_STEPS, segments=tuple(SEGMENT_SWITCH), name="_dashboard_sankey_rows"
        )
        self._maps: dict[str | None, dict[str, sankey.SankeyData]] = {}
        self._funnels: dict[str | None, pd.DataFrame] = {}
        self._funnel_units: FunnelUnits | None = None

    def sankey(self, friction: pd.DataFrame | None, where: Filter | None) -> go.Figure:
        """The map of one view: the same ``sankey_data(..., where=where)`` gives."""
        segment = where.segment if where is not None else None
        if segment not in self._maps:
            if segment is None:
                data = sankey.sankey_data(self.con, steps=SANKEY_STEPS, top_k=SANKEY_TOP_K, rows=self.rows)
                self._maps[segment] = {"": data}
            else:
                self._maps[segment] = sankey.segment_maps(self.con, self.rows, segment, top_k=SANKEY_TOP_K)
        value = where.segment_value if where is not None else ""
        return sankey.sankey_figure(self._maps[segment][str(value)], friction)

    def funnel(self, where: Filter | None) -> go.Figure:
        """The funnel of one view: the same rows ``funnel(..., where=where)`` gives."""
        segment = where.segment if where is not None else None
        if segment not in self._funnels:
            if self._funnel_units is None:
                self._funnel_units = prepare_funnel(
                    self.con,
                    self.config.funnel.steps,
                    segments=tuple(SEGMENT_SWITCH),
                    name="_dashboard_funnel_units",
                    units=self.rows.units(),
                )
            self._funnels[segment] = funnel_of(self.con, self._funnel_units, segment=segment)
        frame = self._funnels[segment]
        if where is not None:
            frame = frame[frame["segment"] == where.segment_value].reset_index(drop=True)
        return charts.funnel_figure(frame)

    def close(self) -> None:
        # a page abandoned after its connection closed cannot drop its tables: temp ones went
        # with the connection, stored ones are replaced by the next dashboard (create or replace)
        with contextlib.suppress(duckdb.ConnectionException):
            self.rows.drop(self.con)
            if self._funnel_units is not None:
                self._funnel_units.drop(self.con)


@contextlib.contextmanager
def _maps(con: duckdb.DuckDBPyConnection, config: Config) -> Iterator[_Maps]:
    maps = _Maps(con, config)
    try:
        yield maps
    finally:
        maps.close()


def dashboard_figures(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, go.Figure]:
    """The dashboard's charts for all sessions, by name: what notebooks show."""
    friction = charts.friction_table(con)
    with _maps(con, config) as maps:
        figures = {"sankey": maps.sankey(friction, None), "funnel": maps.funnel(None)}
    from_marts = charts.channel_lists_readable(con)
    figures |= {
        "channel_mix": charts.channel_mix_figure(con, from_marts=from_marts),
        "cross_channel": charts.cross_channel_figure(con, from_marts=from_marts),
    }
    satisfaction = charts.satisfaction_figure(con, low_max=config.friction.low_satisfaction_max)
    if satisfaction is not None:
        figures["satisfaction"] = satisfaction
    friction_chart = charts.friction_figure(friction)
    if friction_chart is not None:
        figures["friction"] = friction_chart
    return figures


# ---------------------------------------------------------------- writing files atomically


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _close(chunks: Iterable[str]) -> None:
    """Finish a page generator now, while its connection is open (it drops its working tables)."""
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def write_atomic(path: Path, chunks: Iterable[str]) -> Path:
    """Write ``chunks`` to a temp file beside ``path``, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        _lock(fd)  # held until the file is closed: tells a cleanup this temp file is in use
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        temp = Path(temp_name)
        temp.chmod(0o644)
        temp.replace(path)
    except OSError as err:  # a full disk: say which file could not be written
        Path(temp_name).unlink(missing_ok=True)
        _close(chunks)
        raise OSError(err.errno, f"cannot write {path}: {err.strerror or err}") from err
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        _close(chunks)
        raise
    _fsync_dir(path.parent)
    return path


def _lock(fd: int) -> None:
    """An exclusive advisory lock on an open file, where the system and file system have one.

    Best effort: without it the write goes on, and a cleanup that cannot lock a temp file
    takes it for in use and leaves it.
    """
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _in_use(path: Path) -> bool:
    """Whether a live writer holds ``write_atomic``'s lock on ``path`` (a killed one holds none)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return True  # gone, or not ours to open: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def remove_stale_temp_files(folder: Path, before: float) -> list[Path]:
    """Remove the temp files killed dashboard writes left in ``folder``; the paths removed.

    A SIGKILL during ``write_atomic`` leaves its hidden temp file behind, and nothing else
    would ever remove it. Only files named as ``write_atomic`` names a page's or record's
    temp file, regular files last modified before ``before`` (when the current write began)
    and locked by no live writer are removed: a concurrent write's temp file is left alone.
    """
    removed: list[Path] = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not DASHBOARD_TEMP_PATTERN.match(entry.name):
                continue
            path = Path(entry.path)
            with contextlib.suppress(OSError):
                if (
                    not entry.is_file(follow_symlinks=False)
                    or entry.stat(follow_symlinks=False).st_mtime >= before
                ):
                    continue
                if _in_use(path):
                    continue
                path.unlink()
                removed.append(path)
    return removed


# ---------------------------------------------------------------- headline numbers


def _headline_values(previous: dict[str, Any] | None) -> dict[str, Any] | None:
    if previous is None:
        return None
    inner = previous.get("headline")
    return inner if isinstance(inner, dict) else previous


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _format_value(value: Any, kind: str) -> str:
    number = _number(value)
    if number is None:
        return "n/a"
    if kind == "count":
        return f"{int(number):,}"
    if kind == "rate":
        return style.format_percent(number)
    return style.format_duration(number)


def _format_delta(current: Any, before: Any, kind: str, better: str | None) -> tuple[str, str]:
    """(text, css class) of the change since the previous run."""
    now, then = _number(current), _number(before)
    if now is None or then is None:
        return ("no previous run" if before is None else "n/a", "flat")
    change = now - then
    if kind == "count":
        text = f"{change:+,.0f}" + (f" ({change / then:+.1%})" if then else "")
    elif kind == "rate":
        text = f"{100 * change:+.1f} pp"
    else:
        text = f"{change:+.0f} s"
    if abs(change) < 1e-12:
        return ("no change", "flat")
    if better is None:
        return (text, "flat")
    good = (change > 0) == (better == "up")
    return (text, "good" if good else "bad")


def _period(headline: dict[str, Any]) -> str:
    """First to last activity, to the minute."""
    start, end = headline.get("period_start"), headline.get("period_end")
    return f"{str(start)[:16] if start else 'n/a'} to {str(end)[:16] if end else 'n/a'}"


def _cards(headline: dict[str, Any], previous: dict[str, Any] | None) -> str:
    before = _headline_values(previous)
    cards = []
    for key, label, kind, better, meaning in HEADLINE:
        value = _format_value(headline.get(key), kind)
        if before is None:
            delta, css = "", "flat"
        else:
            delta, css = _format_delta(headline.get(key), before.get(key), kind, better)
        cards.append(
            f'<div class="card"><div class="label">{html.escape(label)}</div>'
            f'<div class="value">{html.escape(value)}</div>'
            f'<div class="delta {css}">{html.escape(delta)}</div>'
            f'<div class="meaning">{html.escape(meaning)}</div></div>'
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


# ---------------------------------------------------------------- page sections


class _Plots:
    """Collects chart JSON; each chart becomes a div plus a JSON script the page script draws."""

    def __init__(self) -> None:
        self.count = 0

    def div(self, figure: go.Figure, *, css: str = "plot") -> str:
        self.count += 1
        fig_id = f"fig-{self.count}"
        spec = json.dumps(figure.to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder, separators=(",", ":"))
        payload = _json_for_script(spec)
        return (
            f'<div class="{css}" data-fig="{fig_id}"></div>'
            f'<script type="application/json" id="{fig_id}">{payload}</script>'
        )


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """An HTML table; every cell is escaped here."""
    numeric = numeric or set()
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{html.escape(c)}</td>' if i in numeric else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _friction_section(friction: pd.DataFrame | None, plots: _Plots) -> str:
    intro = (
        "<h2>Where customers get stuck</h2><p class='note'>Findings are ranked by the conversions"
        " they are estimated to cost. A finding is significant when it survives the false discovery"
        " rate control (q-value below the configured alpha) with enough support.</p>"
    )
    if friction is None:
        return intro + "<p>The friction analysis did not run for this warehouse.</p>"
    significant = (
        friction[friction["significant"].fillna(False).astype(bool)]
        if "significant" in friction
        else friction
    )
    shown = significant if not significant.empty else friction
    note = (
        "" if not significant.empty else "<p><b>No significant friction found.</b> Strongest candidates:</p>"
    )
    chart = charts.friction_figure(friction)
    rows = []
    for row in shown.sort_values("rank").head(FRICTION_ROWS).itertuples(index=False):
        segment = getattr(row, "segment", "all")
        where = (
            "everyone"
            if not isinstance(segment, str) or segment == "all"
            else f"{segment} = {row.segment_value}"
        )
        rate = f"{style.format_percent(row.rate)}"
        if not pd.isna(getattr(row, "rate_ci_low", float("nan"))):
            rate += f" [{style.format_percent(row.rate_ci_low)} to {style.format_percent(row.rate_ci_high)}]"
        rows.append(
            [
                _cell(int(row.rank)),
                f"{row.kind}: {row.location}",
                where,
                _cell(row.explanation),
                f"{int(row.affected):,} of {int(row.base):,}",
                rate,
                style.format_percent(row.baseline_rate),
                "" if pd.isna(row.conversions_lost) else f"{float(row.conversions_lost):,.0f}",
                "" if pd.isna(row.q_value) else f"{float(row.q_value):.2g}",
            ]
        )
    table = _table(
        ["#", "Finding", "Who", "What happens", "Affected", "Rate [95% CI]", "Baseline", "Conv. lost", "q"],
        rows,
        numeric={0, 4, 5, 6, 7, 8},
    )
    return intro + (plots.div(chart) if chart is not None else "") + note + table


def _definitions(config: Config, headline: dict[str, Any]) -> str:
    session, journey, friction = config.session, config.journey, config.friction
    rows = [
        [
            "Data period",
            _period(headline) + " (UTC)",
        ],
        ["Session timeout", f"a gap longer than {session.timeout_minutes:g} minutes starts a new session"],
        [
            "Per-channel timeouts",
            json.dumps(session.channel_timeout_minutes) if session.channel_timeout_minutes else "none",
        ],
        [
            "Maximum session length",
            f"{session.max_length_minutes:g} minutes" if session.max_length_minutes else "none",
        ],
        ["Sessions split by channel", "yes" if session.split_by_channel else "no"],
        ["Excluded touchpoints", ", ".join(session.exclude_touchpoints) or "none"],
        [
            "Journey window",
            f"a journey ends at a conversion or after {journey.inactivity_days:g} days without activity",
        ],
        ["Conversions", ", ".join(config.conversion_touchpoints)],
        [
            "Cart / checkout",
            ", ".join(config.cart_touchpoints) + " / " + ", ".join(config.checkout_touchpoints),
        ],
        ["Funnel steps", " → ".join(config.funnel.steps)],
        [
            "Escalation window",
            f"{friction.escalation_window_minutes:g} minutes from a help page"
            f" ({friction.help_touchpoint_prefix}*) to chat or call",
        ],
        ["Long call wait", f"over {friction.long_wait_seconds:g} s"],
        ["Low satisfaction", f"a rating of {friction.low_satisfaction_max:g} or lower"],
        ["Repeat contact window", f"{friction.repeat_contact_window_days:g} days"],
        ["Cart recovery window", f"{friction.cart_recovery_window_hours:g} hours"],
        [
            "Significance",
            f"at least {friction.min_support} sessions;"
            f" false discovery rate {friction.alpha:g} (Benjamini-Hochberg)",
        ],
        [
            "Journey map",
            f"first {SANKEY_STEPS} steps; top {SANKEY_TOP_K} paths per step; high drop-off: an exit rate"
            f" of {sankey.HIGH_DROPOFF_RATIO:g} times the map's average or more",
        ],
        ["Configuration fingerprint", config.fingerprint()],
    ]
    rows += [[label, meaning] for _, label, _, _, meaning in HEADLINE]
    return "<h2>Definitions used</h2>" + _table(["Term", "Definition"], rows)


def _alerts_section(manifest: dict[str, Any] | None) -> str:
    """'What changed': regressions against the previous runs' baseline (see alerts.py)."""
    alerts = (manifest or {}).get("alerts") or []
    if not alerts:
        return ""
    items = "".join(f"<li>{html.escape(str(alert))}</li>" for alert in alerts)
    return (
        "<section class='alerts'><h2>What changed</h2>"
        "<p>These rates moved significantly against the baseline of previous runs:</p>"
        f"<ul>{items}</ul></section>"
    )


def _manifest_section(manifest: dict[str, Any] | None) -> str:
    if not manifest:
        return ""
    rows = []
    for key, value in manifest.items():
        text = value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True, default=str)
        rows.append(f"<tr><th>{html.escape(str(key))}</th><td><pre>{html.escape(text)}</pre></td></tr>")
    return "<section><h2>Run manifest</h2><table>" + "".join(rows) + "</table></section>"


SCRIPT = """
(function () {
  "use strict";
  var config = {displaylogo: false, responsive: true};
  var queue = [];
  function draw(div) {
    var spec = JSON.parse(document.getElementById(div.getAttribute("data-fig")).textContent);
    div.setAttribute("data-drawn", "1");
    Plotly.newPlot(div, spec.data, spec.layout, config);
  }
  // one chart per task, so the page answers input between charts; body[data-ready] when done
  function pump() {
    var div = queue.shift();
    if (!div) { document.body.setAttribute("data-ready", "1"); return; }
    draw(div);
    setTimeout(pump, 0);
  }
  function drawVisible() {
    document.body.removeAttribute("data-ready");
    queue = Array.prototype.filter.call(document.querySelectorAll(".plot[data-fig]"), function (div) {
      return !div.getAttribute("data-drawn") && !div.closest("[hidden]");
    });
    pump();
  }
  var select = document.getElementById("segment");
  if (select) {
    select.value = "seg-0";
    select.addEventListener("change", function () {
      document.querySelectorAll("[data-segment]").forEach(function (view) {
        view.hidden = view.getAttribute("data-segment") !== select.value;
      });
      drawVisible();
    });
  }
  drawVisible();
})();
"""

CSS = """
:root { --fg:#222; --muted:#5f6368; --line:#e3e5e8; --bg:#f5f6f8; --warn:#c62828; --good:#2e7d32; }
* { box-sizing: border-box; }
body { margin:0; color: var(--fg); background: var(--bg); font-size: 14px; line-height: 1.45;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { background:#fff; border-bottom:1px solid var(--line); padding:18px 32px; }
header h1 { margin:0 0 4px; font-size: 22px; }
header .meta { color: var(--muted); }
main { max-width: 1440px; margin: 0 auto; padding: 8px 32px 48px; }
section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 20px;
  margin:16px 0; }
h2 { font-size: 18px; margin: 0 0 8px; }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap:12px;
  margin: 16px 0; }
.card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:12px 14px; }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 24px; font-weight: 650; margin: 2px 0; white-space: nowrap; }
.card .delta { font-size: 13px; font-weight: 600; }
.card .meaning { color: var(--muted); font-size: 12px; margin-top: 4px; }
.delta.good { color: var(--good); } .delta.bad { color: var(--warn); } .delta.flat { color: var(--muted); }
.toolbar { position: sticky; top: 0; z-index: 10; background: rgba(245,246,248,.96); padding: 10px 0;
  border-bottom: 1px solid var(--line); }
.toolbar label { font-weight: 600; margin-right: 8px; }
.toolbar select { font-size: 14px; padding: 4px 8px; border-radius: 6px; border: 1px solid #bbb; }
.toolbar .note { margin-left: 12px; }
.note { color: var(--muted); font-size: 13px; }
.grid2 { display:grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 1000px) { .grid2 { grid-template-columns: 1fr; } }
table { border-collapse: collapse; width:100%; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align:left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align:right; font-variant-numeric: tabular-nums; white-space: nowrap; }
pre { margin:0; white-space: pre-wrap; word-break: break-word; font-size: 12px; }
[hidden] { display:none !important; }
.plot { width: 100%; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 16px; }
"""

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
)


def _head(title: str) -> Iterator[str]:
    yield (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style>\n<script>"
    )
    yield plotly.offline.get_plotlyjs()
    yield "</script></head>\n"


def _segment_toolbar(views: list[SegmentView]) -> str:
    options = "".join(
        f'<option value="{view.key}"{" selected" if i == 0 else ""}>'
        f"{html.escape(view.label)} ({view.sessions:,} sessions)</option>"
        for i, view in enumerate(views)
    )
    return (
        '<div class="toolbar"><label for="segment">Show</label>'
        f'<select id="segment" autocomplete="off">{options}</select>'
        '<span class="note">applies to the journey map and the funnel</span></div>'
    )


def _segment_section(
    maps: _Maps,
    views: list[SegmentView],
    friction: pd.DataFrame | None,
    plots: _Plots,
) -> Iterator[str]:
    for i, view in enumerate(views):
        hidden = "" if i == 0 else " hidden"
        yield (
            f'<div data-segment="{view.key}"{hidden}>'
            "<section><h2>Journey map</h2><p class='note'>Each node is a path, not just a page: following"
            " ribbons from left to right gives exactly the sessions that took that route. Node colour is"
            " the channel; red ribbons and nodes are drop-off (dark red: after reaching the cart),"
            " orange ribbons are escalations to chat or call, green is conversion. Hover for counts,"
            " rates, median time to the next step and the friction finding for that touchpoint.</p>"
            + plots.div(maps.sankey(friction, view.where), css="plot sankey-map")
            + "</section><section><h2>Funnel</h2>"
            + plots.div(maps.funnel(view.where))
            + "</section></div>"
        )


def _header(
    run_id: str, generated_at: datetime, headline: dict[str, Any], previous: dict[str, Any] | None
) -> str:
    period = _period(headline) + " UTC"
    prior = _headline_values(previous)
    compared = (
        " No earlier run to compare with." if prior is None else " Changes are against the previous run."
    )
    return (
        "<body><header><h1>Customer journeys and friction</h1>"
        f"<div class='meta'>Run {html.escape(run_id)} · generated {generated_at:%Y-%m-%d %H:%M} UTC"
        f" · data {html.escape(period)}</div></header><main>"
        + _cards(headline, previous)
        + f"<p class='note'>All numbers are counts of distinct customers, sessions or journeys.{compared}</p>"
    )


def _page(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    run_id: str,
    generated_at: datetime,
    headline: dict[str, Any],
    previous: dict[str, Any] | None,
    manifest: dict[str, Any] | None,
) -> Iterator[str]:
    plots = _Plots()
    friction = charts.friction_table(con)
    with _maps(con, config) as maps:
        views = segment_views(con, maps.rows.units_table)
        yield from _head(f"Customer journeys: run {run_id}")
        yield _header(run_id, generated_at, headline, previous)
        yield _alerts_section(manifest)
        yield _segment_toolbar(views)
        yield from _segment_section(maps, views, friction, plots)
    yield "<section>" + _friction_section(friction, plots) + "</section>"
    from_marts = charts.channel_lists_readable(con)
    yield (
        "<section><h2>Channels</h2><div class='grid2'>"
        + plots.div(charts.channel_mix_figure(con, from_marts=from_marts))
        + plots.div(charts.cross_channel_figure(con, from_marts=from_marts))
        + "</div></section>"
    )
    satisfaction = charts.satisfaction_figure(con, low_max=config.friction.low_satisfaction_max)
    yield (
        "<section><h2>Satisfaction</h2>"
        + (
            plots.div(satisfaction)
            if satisfaction is not None
            else "<p>No satisfaction ratings in this data.</p>"
        )
        + "</section>"
    )
    yield "<section>" + _definitions(config, headline) + "</section>"
    yield _manifest_section(manifest)
    yield (
        "</main><footer>journey-mining · self-contained file: works offline, loads nothing from the network"
        f"</footer><script>{SCRIPT}</script></body></html>\n"
    )


def write_dashboard(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    out_dir: Path,
    *,
    run_id: str,
    previous: dict[str, Any] | None = None,
    manifest: dict[str, Any] | None = None,
) -> Path:
    """Write ``dashboard-<run_id>.html`` (and its headline JSON) into ``out_dir``, atomically.

    ``previous`` is the prior run's headline dict (or its stored JSON record); the cards show
    the change since then.
    """
    if not RUN_ID_PATTERN.match(run_id):
        raise ValueError(f"run_id {run_id!r} must be letters, digits, '.', '_' or '-' (it names a file)")
    generated_at = datetime.now(UTC)
    headline = headline_numbers(con)
    html_path = Path(out_dir) / f"dashboard-{run_id}.html"
    page = _page(
        con,
        config,
        run_id=run_id,
        generated_at=generated_at,
        headline=headline,
        previous=previous,
        manifest=manifest,
    )
    write_atomic(html_path, page)
    record = {
        "run_id": run_id,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "html": html_path.name,
        "headline": headline,
    }
    write_atomic(html_path.with_suffix(".json"), [json.dumps(record, indent=1, sort_keys=True, default=str)])
    remove_stale_temp_files(html_path.parent, generated_at.timestamp())
    return html_path


def read_headline(out_dir: Path, run_id: str) -> dict[str, Any] | None:
    """A stored run's headline numbers, or None."""
    path = Path(out_dir) / f"dashboard-{run_id}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    headline = record.get("headline") if isinstance(record, dict) else None
    return headline if isinstance(headline, dict) else None


def _runs(out_dir: Path) -> list[dict[str, Any]]:
    runs = []
    for page in out_dir.glob("dashboard-*.html"):
        run_id = page.stem.removeprefix("dashboard-")
        record: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
            record = loaded if isinstance(loaded, dict) else {}
        generated = record.get("generated_at") or datetime.fromtimestamp(page.stat().st_mtime, UTC).isoformat(
            timespec="seconds"
        )
        headline = record.get("headline") if isinstance(record.get("headline"), dict) else {}
        runs.append(
            {"run_id": run_id, "file": page.name, "generated_at": str(generated), "headline": headline}
        )
    return sorted(runs, key=lambda r: (r["generated_at"], r["run_id"]), reverse=True)


def write_index(out_dir: Path) -> Path:
    """``index.html`` linking every run's dashboard in ``out_dir``, newest first."""
    out_dir = Path(out_dir)
    rows = []
    for run in _runs(out_dir):
        numbers = run["headline"]
        period = _period(numbers)
        rows.append(
            f'<tr><td><a href="{html.escape(run["file"], quote=True)}">{html.escape(run["run_id"])}</a></td>'
            f"<td>{html.escape(run['generated_at'])}</td><td>{html.escape(period)}</td>"
            + "".join(
                f"<td class='num'>{html.escape(_format_value(numbers.get(key), kind))}</td>"
                for key, kind in (
                    ("sessions", "count"),
                    ("conversion_rate", "rate"),
                    ("cart_abandonment_rate", "rate"),
                )
            )
            + "</tr>"
        )
    body = "".join(rows) or "<tr><td colspan='6'>No dashboards yet.</td></tr>"
    page = (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        f"<title>journey-mining dashboards</title><style>{CSS}</style></head><body>"
        "<header><h1>journey-mining dashboards</h1><div class='meta'>newest first</div></header>"
        "<main><section>"
        "<table><thead><tr><th>Run</th><th>Generated (UTC)</th><th>Data period</th><th>Sessions</th>"
        f"<th>Conversion rate</th><th>Cart abandonment</th></tr></thead><tbody>{body}</tbody></table>"
        "</section></main></body></html>\n"
    )
    return write_atomic(out_dir / "index.html", [page])
