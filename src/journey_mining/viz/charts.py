"""The dashboard's other charts: funnel, channel mix, cross-channel journeys, satisfaction, friction.

Each ``*_figure`` takes aggregates (a small DataFrame or a connection it runs one grouped
query on) and returns a Plotly figure, so notebooks show exactly what the dashboard shows.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import plotly.graph_objects as go

from journey_mining.viz import style
from journey_mining.warehouse import table_exists

MULTI_CHANNEL_COLOR = "#6C5B7B"
MIN_RATED_JOURNEYS = 10
"""A touchpoint needs this many rated journeys through it to appear in the satisfaction chart."""


def _empty(title: str, message: str, height: int = 260) -> go.Figure:
    figure = go.Figure(layout=style.base_layout(title, height=height))
    figure.add_annotation(
        text=style.plot_text(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def funnel_figure(frame: pd.DataFrame, *, unit_name: str = "sessions", title: str | None = None) -> go.Figure:
    """One segment's funnel (``funnel.funnel`` output): reached, share of previous, drop-off, time."""
    title = title or f"Funnel: {unit_name} reaching each step in order (other steps may come between)"
    if frame.empty or int(frame["reached"].iloc[0]) == 0:
        return _empty(title, f"No {unit_name} reached the first step")
    labels = [
        f"{int(n)}. {style.plot_text(tp)}"
        for n, tp in zip(frame["step_number"], frame["touchpoint"], strict=True)
    ]
    texts, hovers = [], []
    for row in frame.itertuples(index=False):
        reached = int(row.reached)
        if row.step_number == 1:
            share = style.format_percent(reached / int(row.units_total)) + f" of all {unit_name}"
            texts.append(f"{reached:,} ({share})")
        else:
            texts.append(
                f"{reached:,} ({style.format_percent(row.rate_from_previous)} of previous;"
                f" lost {int(row.dropped):,})"
            )
        hovers.append(
            "<br>".join(
                [
                    f"<b>{style.plot_text(row.touchpoint)}</b>",
                    f"Reached: {reached:,} {unit_name}",
                    f"Of the previous step: {style.format_percent(row.rate_from_previous)}",
                    f"Of the first step: {style.format_percent(row.rate_from_first)}",
                    f"Dropped since the previous step: {int(row.dropped):,}",
                    "Median time from the previous step: " + style.format_duration(row.median_seconds),
                ]
            )
        )
    figure = go.Figure(
        go.Funnel(
            y=labels,
            x=frame["reached"].tolist(),
            text=texts,
            textinfo="text",
            textposition="auto",
            customdata=hovers,
            hovertemplate="%{customdata}<extra></extra>",
            marker={"color": style.CHANNEL_COLORS["web"]},
            connector={"fillcolor": style.rgba(style.WARNING_COLOR, 0.15)},
        ),
        layout=style.base_layout(title, height=120 + 60 * len(frame)),
    )
    figure.update_layout(margin={"l": 10, "r": 30, "t": 60, "b": 30}, yaxis={"automargin": True})
    return figure


CHANNEL_MIX_SQL = """
    select channel, count(distinct session_id) as sessions, count(*) as touchpoints
    from session_touchpoints group by channel order by sessions desc, channel
"""
# sessions.channels lists a session's distinct channels joined with ','
CHANNEL_MIX_FROM_MARTS_SQL = """
    with touchpoints as (select channel, count(*) as touchpoints from session_touchpoints group by channel),
    sessions as (
        select channel, count(*) as sessions
        from (select unnest(string_split(channels, ',')) as channel from sessions)
        group by channel
    )
    select t.channel, coalesce(s.sessions, 0) as sessions, t.touchpoints
    from touchpoints as t left join sessions as s using (channel)
    order by sessions desc, channel
"""


def channel_lists_readable(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the marts' channel lists (joined with ',') give the channels back exactly.

    Then the sessions and journeys marts answer the per-channel charts without a distinct
    count over every touchpoint. Channels are slugs, so this holds unless data is unusual.
    """
    if not (table_exists(con, "sessions") and table_exists(con, "journeys")):
        return False
    channels = con.execute("select distinct channel from session_touchpoints").fetchall()
    return all(isinstance(name, str) and "," not in name for (name,) in channels)


def _channel_mix(con: duckdb.DuckDBPyConnection, from_marts: bool) -> tuple[pd.DataFrame, int]:
    """(channel, sessions, touchpoints) largest first, and the number of sessions."""
    if not from_marts:
        total = con.execute("select count(distinct session_id) from session_touchpoints").fetchone()
        return con.execute(CHANNEL_MIX_SQL).df(), int(total[0]) if total else 0
    total = con.execute("select count(*) from sessions").fetchone()
    return con.execute(CHANNEL_MIX_FROM_MARTS_SQL).df(), int(total[0]) if total else 0


def channel_mix_figure(con: duckdb.DuckDBPyConnection, *, from_marts: bool | None = None) -> go.Figure:
    """Sessions that touched each channel (a session may touch several).

    ``from_marts``: ``channel_lists_readable(con)``, if the caller knows it already.
    """
    if from_marts is None:
        from_marts = channel_lists_readable(con)
    frame, sessions = _channel_mix(con, from_marts)
    title = "Channel mix: sessions touching each channel"
    if frame.empty:
        return _empty(title, "No sessions")
    frame = frame.iloc[::-1]
    figure = go.Figure(
        go.Bar(
            y=[style.plot_text(c) for c in frame["channel"]],
            x=frame["sessions"].tolist(),
            orientation="h",
            marker={"color": [style.channel_color(c) for c in frame["channel"]]},
            text=[f"{int(n):,} ({style.format_percent(n / sessions)})" for n in frame["sessions"]],
            textposition="auto",
            customdata=[f"{int(t):,} touchpoints" for t in frame["touchpoints"]],
            hovertemplate="%{y}: %{x:,} sessions<br>%{customdata}<extra></extra>",
        ),
        layout=style.base_layout(title, height=140 + 45 * len(frame)),
    )
    figure.update_layout(
        margin={"l": 10, "r": 20, "t": 60, "b": 30}, yaxis={"automargin": True}, xaxis={"title": "sessions"}
    )
    return figure


CROSS_CHANNEL_SQL = """
    with per_journey as (
        select journey_id,
            string_agg(distinct channel, ' + ' order by channel) as channels,
            count(distinct channel) as channel_count,
            bool_or(coalesce(is_conversion, false)) as converted
        from session_touchpoints group by journey_id
    )
    select channels, any_value(channel_count) as channel_count, count(*) as journeys,
        avg(cast(converted as integer)) as conversion_rate
    from per_journey group by channels order by journeys desc, channels limit ?
"""
# journeys.channels lists a journey's distinct channels, alphabetically, joined with ','
CROSS_CHANNEL_FROM_MARTS_SQL = """
    select replace(channels, ',', ' + ') as channels, any_value(channel_count) as channel_count,
        count(*) as journeys, avg(cast(coalesce(converted, false) as integer)) as conversion_rate
    from journeys group by 1 order by journeys desc, channels limit ?
"""


def cross_channel_figure(
    con: duckdb.DuckDBPyConnection, *, top: int = 10, from_marts: bool | None = None
) -> go.Figure:
    """Journeys by the set of channels they used, with each set's conversion rate.

    ``from_marts``: ``channel_lists_readable(con)``, if the caller knows it already.
    """
    if from_marts is None:
        from_marts = channel_lists_readable(con)
    frame = con.execute(CROSS_CHANNEL_FROM_MARTS_SQL if from_marts else CROSS_CHANNEL_SQL, [top]).df()
    title = "Cross-channel journeys: channels used, and how often they converted"
    if frame.empty:
        return _empty(title, "No journeys")
    frame = frame.iloc[::-1]
    colors = [
        style.channel_color(c) if int(n) == 1 else MULTI_CHANNEL_COLOR
        for c, n in zip(frame["channels"], frame["channel_count"], strict=True)
    ]
    figure = go.Figure(
        go.Bar(
            y=[style.plot_text(c) for c in frame["channels"]],
            x=frame["journeys"].tolist(),
            orientation="h",
            marker={"color": colors},
            text=[
                f"{int(n):,} · {style.format_percent(r)} converted"
                for n, r in zip(frame["journeys"], frame["conversion_rate"], strict=True)
            ],
            textposition="auto",
            hovertemplate="%{y}: %{x:,} journeys<br>%{text}<extra></extra>",
        ),
        layout=style.base_layout(title, height=140 + 40 * len(frame)),
    )
    figure.update_layout(
        margin={"l": 10, "r": 20, "t": 60, "b": 30}, yaxis={"automargin": True}, xaxis={"title": "journeys"}
    )
    return figure


def satisfaction_frame(con: duckdb.DuckDBPyConnection, *, low_max: float) -> pd.DataFrame:
    """Per touchpoint: rated journeys through it, their mean rating and share of low ratings."""
    return con.execute(
        """
        with rated as (
            select journey_id, avg(satisfaction) as rating
            from session_touchpoints where satisfaction is not null group by journey_id
        ),
        touched as (
            select distinct journey_id, touchpoint, channel from session_touchpoints
            where journey_id in (select journey_id from rated)
        )
        select t.touchpoint, any_value(t.channel) as channel, count(*) as journeys,
            avg(r.rating) as mean_rating, avg(cast(r.rating <= ? as integer)) as low_share
        from touched as t inner join rated as r using (journey_id)
        group by t.touchpoint having count(*) >= ?
        order by mean_rating, t.touchpoint
        """,
        [low_max, MIN_RATED_JOURNEYS],
    ).df()


def satisfaction_figure(con: duckdb.DuckDBPyConnection, *, low_max: float, top: int = 15) -> go.Figure | None:
    """Mean rating of the rated journeys that passed each touchpoint, worst first; None if unrated."""
    frame = satisfaction_frame(con, low_max=low_max).head(top)
    if frame.empty:
        return None
    frame = frame.iloc[::-1]
    figure = go.Figure(
        go.Bar(
            y=[style.plot_text(t) for t in frame["touchpoint"]],
            x=frame["mean_rating"].round(2).tolist(),
            orientation="h",
            marker={"color": [style.channel_color(c) for c in frame["channel"]]},
            text=[f"{m:.2f}" for m in frame["mean_rating"]],
            textposition="auto",
            customdata=[
                f"{int(n):,} rated journeys · {style.format_percent(s)} rated {low_max:g} or lower"
                for n, s in zip(frame["journeys"], frame["low_share"], strict=True)
            ],
            hovertemplate="%{y}: mean rating %{x}<br>%{customdata}<extra></extra>",
        ),
        layout=style.base_layout(
            "Satisfaction of rated journeys, by touchpoint they passed"
            f" (worst first; at least {MIN_RATED_JOURNEYS} journeys)",
            height=140 + 32 * len(frame),
        ),
    )
    figure.update_layout(
        margin={"l": 10, "r": 20, "t": 60, "b": 40},
        yaxis={"automargin": True},
        xaxis={"title": "mean rating"},
    )
    return figure


def friction_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """The ranked ``friction`` table, or None when this run did not build one."""
    if not table_exists(con, "friction"):
        return None
    return con.execute("select * from friction order by rank").df()


def friction_figure(friction: pd.DataFrame | None, *, top: int = 10) -> go.Figure | None:
    """Top findings by estimated conversions lost (significant ones only)."""
    if friction is None or friction.empty:
        return None
    frame = friction
    if "significant" in frame:
        frame = frame[frame["significant"].fillna(False).astype(bool)]
    frame = frame.sort_values("rank").head(top)
    if frame.empty:
        return None
    frame = frame.iloc[::-1]
    labels = []
    for row in frame.itertuples(index=False):
        segment = getattr(row, "segment", None)
        value = getattr(row, "segment_value", None)
        where = f" ({segment}={value})" if isinstance(segment, str) and segment != "all" else ""
        labels.append(style.plot_text(_shorten(f"#{int(row.rank)} {row.location}{where}", 60)))
    lost = frame["conversions_lost"].fillna(0).astype(float)
    figure = go.Figure(
        go.Bar(
            y=labels,
            x=lost.round(1).tolist(),
            orientation="h",
            marker={"color": style.WARNING_COLOR},
            customdata=[style.wrap_text(e, 70) for e in frame["explanation"]],
            hovertemplate="%{y}<br>about %{x:,.0f} conversions lost<br>%{customdata}<extra></extra>",
        ),
        layout=style.base_layout("Friction: estimated conversions lost", height=140 + 34 * len(frame)),
    )
    figure.update_layout(
        margin={"l": 10, "r": 20, "t": 60, "b": 40},
        yaxis={"automargin": True},
        xaxis={"title": "conversions lost"},
    )
    return figure
