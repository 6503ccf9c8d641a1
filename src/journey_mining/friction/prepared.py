"""Narrow temp tables the friction kinds share, built once per run from the marts.

The kinds used to re-scan the wide ``session_touchpoints`` mart (string keys, 27 columns)
in every query: about ten full passes with string-keyed joins and group-bys. Instead,
:func:`prepare` reads it twice -- every row with only the columns the kinds use, and the
few timed rows (conversions, help visits, contact-channel steps, ratings) with their
times -- and replaces the string keys with integers:

- ``_fr_journeys``: journey_id -> ``jid``, numbered in journey_id order (so the smallest
  ``jid`` is the smallest journey_id: example ids keep their order), and ``cid`` per customer
  (its smallest ``jid``).
- ``_fr_touchpoints`` / ``_fr_channels`` / ``_fr_devices``: name -> small integer, numbered
  in name order (so ``min`` and ``order by`` on the code give the same as on the name).
- ``_fr_sessions``: session_id -> ``sid``, with ``jid``, ``cid``, session_end and the last
  touchpoint, from the ``sessions`` mart.
- ``_fr_steps``: one row per touchpoint occurrence: sid, jid, step, journey_step, tp, ntp
  (next touchpoint in the session), the flags, channel and device codes.
- ``_fr_events``: the timed subset, with cid, session_number, ts, wait, topic, rating.
- ``_fr_session_facts`` (the old ``SESSION_FACTS``), ``_fr_journey_facts`` (``JOURNEY_FACTS``)
  and ``_fr_contacts`` (``CONTACTS``): computed once instead of once per kind.

:func:`journey_examples` turns the ``jid`` lists of :func:`examples` back into journey ids.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from journey_mining.friction.common import query

TABLES = (
    "_fr_contacts",
    "_fr_journey_facts",
    "_fr_session_facts",
    "_fr_events",
    "_fr_steps",
    "_fr_sessions",
    "_fr_devices",
    "_fr_channels",
    "_fr_touchpoints",
    "_fr_journeys",
)
"""Every temp table :func:`prepare` creates, in the order they are dropped."""

JOURNEYS_SQL = """
create or replace temp table _fr_journeys as
-- jid: the journey's place in journey_id order, numbered within each two-character prefix
-- and offset by the journeys of the prefixes before it: the numbers of one
-- row_number() over (order by journey_id), which Spark would compute in a single task;
-- cid: the customer's smallest jid (a key only: row_number() over (), the numbering Spark
-- spreads over tasks, gives ids too large for an integer there)
with prefixed as (
    select journey_id, customer_key, left(journey_id, 2) as prefix from journeys
),

offsets as (
    select
        prefix,
        coalesce(sum(count(*)) over (order by prefix rows between unbounded preceding and 1 preceding), 0)
            as earlier
    from prefixed
    group by prefix
),

keyed as (
    select
        p.journey_id,
        p.customer_key,
        o.earlier + row_number() over (partition by p.prefix order by p.journey_id) as jid
    from prefixed as p
    inner join offsets as o on o.prefix = p.prefix
),

customers as (
    select customer_key, min(jid) as cid from keyed group by customer_key
)

select k.journey_id, cast(k.jid as integer) as jid, cast(c.cid as integer) as cid
from keyed as k
inner join customers as c on c.customer_key = k.customer_key
"""

TOUCHPOINTS_SQL = """
create or replace temp table _fr_touchpoints as
select touchpoint, cast(row_number() over (order by touchpoint) as smallint) as tp
from touchpoint_stats
"""

CHANNELS_SQL = """
create or replace temp table _fr_channels as
select channel, cast(row_number() over (order by channel) as smallint) as ch
from (select distinct channel from session_touchpoints where channel is not null)
"""

DEVICES_SQL = """
create or replace temp table _fr_devices as
select device, cast(row_number() over (order by device) as smallint) as dev
from (select distinct device from session_touchpoints where device is not null)
"""

SESSIONS_SQL = """
create or replace temp table _fr_sessions as
select
    s.session_id,
    cast(row_number() over () as integer) as sid,
    j.jid,
    j.cid,
    s.session_end,
    p.tp as last_tp
from sessions as s
inner join _fr_journeys as j on j.journey_id = s.journey_id
left join _fr_touchpoints as p on p.touchpoint = s.last_touchpoint
"""

STEPS_SQL = """
create or replace temp table _fr_steps as
select
    s.sid,
    s.jid,
    cast(t.step as integer) as step,
    cast(t.journey_step as integer) as journey_step,
    p.tp,
    n.tp as ntp,
    t.is_conversion,
    t.is_cart,
    t.is_checkout,
    c.ch,
    d.dev
from session_touchpoints as t
inner join _fr_sessions as s on s.session_id = t.session_id
inner join _fr_touchpoints as p on p.touchpoint = t.touchpoint
left join _fr_touchpoints as n on n.touchpoint = t.next_touchpoint
left join _fr_channels as c on c.channel = t.channel
left join _fr_devices as d on d.device = t.device
"""

EVENTS_SQL = """
create or replace temp table _fr_events as
select
    s.sid,
    s.jid,
    s.cid,
    t.session_number,
    cast(t.step as integer) as step,
    cast(t.journey_step as integer) as journey_step,
    t.ts,
    p.tp,
    t.touchpoint,
    t.channel,
    t.wait_seconds,
    t.topic,
    t.satisfaction,
    t.is_conversion
from session_touchpoints as t
inner join _fr_sessions as s on s.session_id = t.session_id
inner join _fr_touchpoints as p on p.touchpoint = t.touchpoint
where t.is_conversion
    or starts_with(t.touchpoint, $help_prefix)
    or list_contains(cast($contact_channels as varchar[]), t.channel)
    or t.satisfaction is not null
"""

SESSION_FACTS_SQL = """
create or replace temp table _fr_session_facts as
with devices as (
    select sid, arg_min(dev, step) as dev
    from _fr_steps
    where dev is not null
    group by sid
),

conversions as (
    select sid, min(step) as first_conversion_step, max(step) as last_conversion_step
    from _fr_steps
    where is_conversion
    group by sid
)

select
    s.sid,
    s.jid,
    s.cid,
    coalesce(d.device, 'unknown') as device,
    c.first_conversion_step,
    c.last_conversion_step,
    s.last_tp,
    s.session_end
from _fr_sessions as s
left join devices as v on v.sid = s.sid
left join _fr_devices as d on d.dev = v.dev
left join conversions as c on c.sid = s.sid
"""
"""One row per session: device (as the ``device`` segment defines it), where its
conversions are, how and when it ended."""

JOURNEY_FACTS_SQL = """
create or replace temp table _fr_journey_facts as
select jid, max(journey_step) as last_conversion_step
from _fr_events
where is_conversion
group by jid
"""
"""One row per journey with a conversion: its last conversion step ("converted after step
k" is ``> k``; journeys without one are absent, so a left join gives null = not converted)."""

CONTACTS_SQL = """
create or replace temp table _fr_contacts as
with contact_steps as (
    select
        sid, jid, cid, session_number, step, journey_step, ts, tp,
        touchpoint, channel, wait_seconds, topic,
        list_contains(cast($contact_touchpoints as varchar[]), touchpoint) as is_contact_touchpoint,
        lag(touchpoint) over customer_channel as previous_on_channel
    from _fr_events
    where list_contains(cast($contact_channels as varchar[]), channel)
    window customer_channel as (partition by cid, channel order by ts, session_number, step)
),

contact_marked as (
    select
        *,
        is_contact_touchpoint and not coalesce(
            list_contains(cast($contact_touchpoints as varchar[]), previous_on_channel)
            or list_contains(cast($contact_transfer_touchpoints as varchar[]), previous_on_channel),
            false
        ) as opens_contact
    from contact_steps
),

contact_numbered as (
    select
        *,
        sum(case when opens_contact then 1 else 0 end) over (
            partition by cid, channel order by ts, session_number, step
            rows between unbounded preceding and current row
        ) as contact_number
    from contact_marked
),

contact_facts as (
    select
        cid,
        channel,
        contact_number,
        max(wait_seconds) as wait_seconds,
        coalesce(min_by(topic, ts) filter (where topic is not null), 'unknown') as topic,
        bool_or(list_contains(cast($abandoned_contact_touchpoints as varchar[]), touchpoint)) as abandoned
    from contact_numbered
    where contact_number > 0
    group by cid, channel, contact_number
)

select
    row_number() over () as contact_id,
    n.cid, n.channel, n.sid, n.jid, n.session_number, n.step,
    n.journey_step, n.ts, n.tp, n.touchpoint, f.wait_seconds, f.topic, f.abandoned
from contact_numbered as n
inner join contact_facts as f using (cid, channel, contact_number)
where n.opens_contact
"""
"""One row per support contact, at the touchpoint that opened it.

A contact touchpoint opens a contact unless the customer's previous touchpoint on the
same channel is itself a contact touchpoint (``call:queued`` then ``call:answered``) or a
transfer (the next leg of the same call). The contact's wait is the longest wait of its
touchpoints, its topic the first one given ('unknown' when none), and it was abandoned
when any of its touchpoints is an abandoned-contact touchpoint. ``contact_id`` only
identifies a contact within one run.
"""

STEPS = (
    JOURNEYS_SQL,
    TOUCHPOINTS_SQL,
    CHANNELS_SQL,
    DEVICES_SQL,
    SESSIONS_SQL,
    STEPS_SQL,
    EVENTS_SQL,
    SESSION_FACTS_SQL,
    JOURNEY_FACTS_SQL,
    CONTACTS_SQL,
)


def prepare(con: duckdb.DuckDBPyConnection, parameters: Mapping[str, Any]) -> None:
    """Create every ``_fr_*`` temp table from the marts (replacing earlier ones)."""
    for sql in STEPS:
        query(con, sql, parameters)


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the ``_fr_*`` temp tables (they hold a narrow copy of every event)."""
    for table in TABLES:
        con.execute(f"drop table if exists {table}")


@contextmanager
def friction_tables(con: duckdb.DuckDBPyConnection, parameters: Mapping[str, Any]) -> Iterator[None]:
    """The ``_fr_*`` tables for the duration of the block, dropped after it."""
    try:
        prepare(con, parameters)
        yield
    finally:
        drop(con)


def examples(flag: str, unit: str = "jid") -> str:
    """SQL aggregate: the three smallest distinct ``jid`` of rows where ``flag`` holds, in
    ascending order (null when there are none).

    ``min(distinct x, 3)`` keeps three values per group; listing every flagged ``jid`` and
    then deduplicating and sorting the list made drop-off take 17.2 s instead of 13.9 s at
    100M events (49.8M groups), for the same lists.
    """
    return f"min(distinct {unit}, 3) filter (where {flag})"


def journey_examples(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Replace the ``jid`` lists in ``columns`` by comma-separated journey ids (None when empty)."""
    if frame.empty:
        return frame
    ids = sorted({int(i) for column in columns for value in frame[column] if _listed(value) for i in value})
    names: dict[int, str] = {}
    if ids:
        rows = con.execute(
            "select jid, journey_id from _fr_journeys where jid in (select unnest(cast($ids as integer[])))",
            {"ids": ids},
        ).fetchall()
        names = {int(jid): str(journey_id) for jid, journey_id in rows}
    out = frame.copy()
    for column in columns:
        out[column] = [_joined(value, names) for value in out[column]]
    return out


def _joined(value: Any, names: Mapping[int, str]) -> str | None:
    """'j1,j2,j3' from a ``jid`` list, None for an empty or null one (as ``nullif(.., '')``)."""
    if not _listed(value):
        return None
    return ",".join(names[int(i)] for i in value) or None


def _listed(value: Any) -> bool:
    """A list cell of a frame (DuckDB lists arrive as numpy arrays or lists; nulls as None/NaN/NA)."""
    return isinstance(value, (list, tuple, np.ndarray))
