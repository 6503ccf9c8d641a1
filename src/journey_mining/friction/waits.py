"""long_wait and abandoned_contact: queues that keep customers waiting, and those who hang up.

Unit: contacts that waited (see ``common.CONTACTS``; a wait is the call's queue time or
the chat's time to first reply; contacts without one, e.g. outbound calls, are left out),
per opening touchpoint (``call:queued``, ``chat:started``). A contact had a *long wait*
when it waited more than ``long_wait_seconds``; it was *abandoned* when it holds an
``abandoned_contact_touchpoints`` touchpoint (only channels that have one are reported).
Both are broken down by weekday and by hour of the contact's start, in ``time_zone``, each
weekday (hour) against the pooled other weekdays (hours).

conversions_lost = max(affected - baseline_rate * base, 0) * max(c_ok - c_affected, 0),
c_* being the conversion rates after the contact (later in its journey) of the
segment's contacts without / with the long wait (abandonment).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from journey_mining.friction.common import (
    against,
    candidates,
    empty_candidates,
    lost,
    outcome_gap,
    percent,
    pool_others,
    query,
)
from journey_mining.friction.prepared import examples, journey_examples

KINDS = ("long_wait", "abandoned_contact")

SQL = f"""
with waited as (
    select
        c.*,
        timezone($time_zone, timezone('UTC', c.ts)) as local_ts,
        c.wait_seconds > $long_wait_seconds as long_wait,
        coalesce(j.last_conversion_step > c.journey_step, false) as converted
    from _fr_contacts as c
    left join _fr_journey_facts as j on j.jid = c.jid
    where c.wait_seconds is not null
),

segmented as (
    select *, dayname(local_ts) as weekday, strftime(local_ts, '%H:00') as hour
    from waited
)

select
    touchpoint,
    channel,
    case when grouping(weekday) = 0 then 'weekday' else 'hour' end as segment,
    coalesce(weekday, hour) as segment_value,
    count(*) as base,
    count(*) filter (where long_wait) as long_waits,
    count(*) filter (where long_wait and converted) as long_converted,
    count(*) filter (where not long_wait and converted) as short_converted,
    count(*) filter (where abandoned) as abandoned,
    count(*) filter (where abandoned and converted) as abandoned_converted,
    count(*) filter (where not abandoned and converted) as kept_converted,
    {examples("long_wait")} as long_examples,
    {examples("abandoned")} as abandoned_examples
from segmented
group by grouping sets ((touchpoint, channel, weekday), (touchpoint, channel, hour))
"""


def find(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any]) -> pd.DataFrame:
    """Long waits and abandoned contacts per weekday and hour, against the other ones."""
    frame = journey_examples(con, query(con, SQL, parameters), "long_examples", "abandoned_examples")
    if frame.empty:
        return empty_candidates()
    minutes = parameters["long_wait_seconds"] / 60
    long_wait = _kind(frame, "long_wait", "long_waits", "long_converted", "short_converted", "long_examples")
    long_wait["detail"] = f"waited more than {minutes:g} minutes"
    abandoning = {str(t).split(":", 1)[0] for t in parameters["abandoned_contact_touchpoints"]}
    abandoned = _kind(
        frame[frame["channel"].isin(abandoning)],
        "abandoned_contact",
        "abandoned",
        "abandoned_converted",
        "kept_converted",
        "abandoned_examples",
    )
    abandoned["detail"] = "were abandoned in the queue"
    return pd.concat([f for f in (long_wait, abandoned) if not f.empty], ignore_index=True)


def _kind(
    frame: pd.DataFrame, kind: str, affected: str, affected_converted: str, kept_converted: str, ids: str
) -> pd.DataFrame:
    rows = frame.assign(affected=frame[affected], example_ids=frame[ids], location=frame["touchpoint"])
    rows = pool_others(rows, ["touchpoint", "segment"])
    rows["loss_probability"] = outcome_gap(
        rows["affected"], rows["base"], rows[affected_converted], rows[kept_converted]
    )
    return candidates(rows, kind=kind, unit="contacts")


def explain(row: dict[str, Any]) -> str:
    if row["segment"] == "weekday":
        when, others = f"On {row['segment_value']}s", "on other days"
    else:
        hour = int(str(row["segment_value"])[:2])
        when, others = f"Between {hour:02d}:00 and {(hour + 1) % 24:02d}:00", "at other hours"
    return (
        f"{when}, {percent(row['rate'])} of {row['base']:,} {row['touchpoint']} contacts {row['detail']}"
        f"{against(row, others)}{lost(row)}."
    )
