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
    CONTACTS,
    JOURNEY_FACTS,
    against,
    against_the_rest,
    candidates,
    empty_candidates,
    examples,
    lost,
    percent,
    query,
)

KIND = "escalation"

ESCALATIONS = """
help_visits as (
    select session_id, journey_id, customer_key, session_number, step, journey_step, ts, touchpoint
    from session_touchpoints
    where starts_with(touchpoint, $help_prefix)
),

escalations as (
    select v.session_id, v.step, min_by(c.channel, (c.ts, c.session_number, c.step)) as contact_channel
    from help_visits as v
    inner join contacts as c on c.customer_key = v.customer_key
    where list_contains(cast($escalation_channels as varchar[]), c.channel)
        and (c.ts, c.session_number, c.step) > (v.ts, v.session_number, v.step)
        and epoch(c.ts) - epoch(v.ts) <= $escalation_window_seconds
    group by v.session_id, v.step
)"""
"""Help visits (every occurrence) and those followed by a contact in the window; needs CONTACTS."""

SQL = f"""
with {CONTACTS},

{ESCALATIONS},

{JOURNEY_FACTS},

visits as (
    select
        v.touchpoint,
        v.session_id,
        min(v.journey_id) as journey_id,
        min(v.journey_step) as first_journey_step,
        bool_or(e.step is not null) as escalated
    from help_visits as v
    left join escalations as e on e.session_id = v.session_id and e.step = v.step
    group by v.touchpoint, v.session_id
),

flagged as (
    select v.*, coalesce(j.last_conversion_step > v.first_journey_step, false) as converted
    from visits as v
    left join journey_facts as j on j.journey_id = v.journey_id
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
    frame = query(con, SQL, parameters)
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
