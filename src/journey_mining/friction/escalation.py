"""escalation: self-service that failed: a help page visit followed by a chat or call.

Unit: sessions with a visit to a help page (a touchpoint starting with
``help_touchpoint_prefix``), one per session and page. A visit *escalated* when the same
customer opens a contact (see ``common.CONTACTS``) on an ``escalation_channels`` channel
after it, within ``escalation_window_minutes`` -- in the same session or a later one.
Each help page is compared with the pooled other help pages.

conversions_lost = max(affected - baseline_rate * base, 0) * max(c_kept - c_escalated, 0),
where c_* are the conversion rates (later in the journey) of the page's sessions that
did not / did escalate. Escalation mostly costs support time; the estimate counts only
conversions and is 0 when escalated customers convert as often.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from journey_mining.friction.common import (
    against,
    against_the_rest,
    candidates,
    empty_candidates,
    lost,
    percent,
    query,
)
from journey_mining.friction.prepared import examples, journey_examples

KIND = "escalation"

ESCALATIONS = """
help_visits as (
    select sid, jid, cid, session_number, step, journey_step, ts, tp, touchpoint
    from _fr_events
    where starts_with(touchpoint, $help_prefix)
),

escalations as (
    select v.sid, v.step, min_by(c.channel, (c.ts, c.session_number, c.step)) as contact_channel
    from help_visits as v
    inner join _fr_contacts as c on c.cid = v.cid
    where list_contains(cast($escalation_channels as varchar[]), c.channel)
        and (c.ts, c.session_number, c.step) > (v.ts, v.session_number, v.step)
        and epoch(c.ts) - epoch(v.ts) <= $escalation_window_seconds
    group by v.sid, v.step
)"""
"""Help visits (every occurrence) and those followed by a contact in the window; over the
prepared ``_fr_events`` and ``_fr_contacts`` (see ``prepared``)."""

SQL = f"""
with {ESCALATIONS},

visits as (
    select
        v.touchpoint,
        v.sid,
        min(v.jid) as jid,
        min(v.journey_step) as first_journey_step,
        bool_or(e.step is not null) as escalated
    from help_visits as v
    left join escalations as e on e.sid = v.sid and e.step = v.step
    group by v.touchpoint, v.sid
),

flagged as (
    select v.*, coalesce(j.last_conversion_step > v.first_journey_step, false) as converted
    from visits as v
    left join _fr_journey_facts as j on j.jid = v.jid
)

select
    touchpoint,
    count(*) as base,
    count(*) filter (where escalated) as affected,
    count(*) filter (where escalated and converted) as affected_converted,
    count(*) filter (where not escalated and converted) as unaffected_converted,
    {examples("escalated")} as example_ids
from flagged
group by touchpoint
"""


def find(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any]) -> pd.DataFrame:
    """One candidate per help page, against the other help pages."""
    frame = journey_examples(con, query(con, SQL, parameters), "example_ids")
    if frame.empty:
        return empty_candidates()
    frame = against_the_rest(frame, KIND)
    channels = " or ".join(parameters["escalation_channels"])
    minutes = parameters["escalation_window_seconds"] / 60
    return candidates(
        frame.assign(location=frame["touchpoint"]),
        kind=KIND,
        channel=str(parameters["help_prefix"]).split(":", 1)[0],
        segment="all",
        segment_value="all",
        unit="sessions",
        detail=f"a {channels} within {minutes:g} minutes",
    )


def explain(row: dict[str, Any]) -> str:
    return (
        f"{percent(row['rate'])} of {row['base']:,} sessions that visited {row['touchpoint']} were followed "
        f"by {row['detail']}{against(row, 'for other help pages')}{lost(row)}."
    )
