"""low_satisfaction: touchpoints after which customers rate their experience poorly.

Unit: journeys that have touchpoint T and a rating (a ``satisfaction`` value) after it;
the rating that counts is the first one after T's first occurrence in the journey. It
is *low* at or below ``low_satisfaction_max``. Each touchpoint is compared with the pooled
other touchpoints (a journey counts once under each touchpoint it has before its rating).

conversions_lost = max(affected - baseline_rate * base, 0) * max(c_ok - c_low, 0), c_*
being the conversion rates after T (later in the journey) of T's journeys with a
rating above / at or below the threshold.
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

KIND = "low_satisfaction"

SQL = f"""
with ratings as (
    select jid, journey_step, satisfaction
    from _fr_events
    where satisfaction is not null
),

firsts as (
    select jid, tp, min(ch) as ch, min(journey_step) as first_step
    from _fr_steps
    where jid in (select jid from ratings)
    group by jid, tp
),

rated as (
    select
        f.jid, f.tp, f.ch, f.first_step,
        min_by(r.satisfaction, r.journey_step) as rating
    from firsts as f
    inner join ratings as r on r.jid = f.jid and r.journey_step > f.first_step
    group by f.jid, f.tp, f.ch, f.first_step
),

flagged as (
    select
        r.*,
        r.rating <= $low_satisfaction_max as low,
        coalesce(j.last_conversion_step > r.first_step, false) as converted
    from rated as r
    left join _fr_journey_facts as j on j.jid = r.jid
),

counted as (
    select
        tp,
        min(ch) as ch,
        count(*) as base,
        count(*) filter (where low) as affected,
        count(*) filter (where low and converted) as affected_converted,
        count(*) filter (where not low and converted) as unaffected_converted,
        {examples("low")} as example_ids
    from flagged
    group by tp
)

select
    p.touchpoint, h.channel, x.base, x.affected, x.affected_converted, x.unaffected_converted, x.example_ids
from counted as x
inner join _fr_touchpoints as p on p.tp = x.tp
left join _fr_channels as h on h.ch = x.ch
"""
"""Over the prepared ``_fr_*`` tables (see ``prepared``); only journeys with a rating are read."""


def find(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any]) -> pd.DataFrame:
    """One candidate per touchpoint followed by ratings, against the other touchpoints."""
    frame = journey_examples(con, query(con, SQL, parameters), "example_ids")
    if frame.empty:
        return empty_candidates()
    frame = against_the_rest(frame, KIND)
    return candidates(
        frame.assign(location=frame["touchpoint"]),
        kind=KIND,
        segment="all",
        segment_value="all",
        unit="journeys",
        detail=f"{parameters['low_satisfaction_max']:g}",
    )


def explain(row: dict[str, Any]) -> str:
    return (
        f"{percent(row['rate'])} of {row['base']:,} ratings after {row['touchpoint']} were {row['detail']} "
        f"or lower{against(row, 'after other touchpoints')}{lost(row)}."
    )
