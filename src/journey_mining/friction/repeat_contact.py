"""repeat_contact: a contact that did not settle the matter, so the customer came back.

Unit: contacts (see ``common.CONTACTS``: a chat, or a call with all its legs). A contact
is *repeated* when the same customer opens another contact -- on any channel -- on the
same topic, after it and within ``repeat_contact_window_days``. A contact without a topic
has topic 'unknown' (and two unknown ones count as the same topic). Each topic is
compared with the pooled other topics. Contacts near the end of the data have a shorter
window to be repeated in; that lowers every topic's rate alike.

conversions_lost = max(affected - baseline_rate * base, 0) * max(c_settled - c_repeated, 0),
c_* being the conversion rates after the contact (later in its journey) of the topic's
contacts that were not / were repeated.
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

KIND = "repeat_contact"

REPEATS = """
repeats as (
    select a.contact_id, min_by(b.contact_id, (b.ts, b.session_number, b.step)) as repeat_contact_id
    from _fr_contacts as a
    inner join _fr_contacts as b on b.cid = a.cid and b.topic = a.topic
    where (b.ts, b.session_number, b.step) > (a.ts, a.session_number, a.step)
        and epoch(b.ts) - epoch(a.ts) <= $repeat_window_seconds
    group by a.contact_id
)"""
"""For each repeated contact, the contact that repeated it; over the prepared ``_fr_contacts``."""

SQL = f"""
with {REPEATS},

flagged as (
    select
        c.topic,
        c.jid,
        r.contact_id is not null as repeated,
        coalesce(j.last_conversion_step > c.journey_step, false) as converted
    from _fr_contacts as c
    left join repeats as r on r.contact_id = c.contact_id
    left join _fr_journey_facts as j on j.jid = c.jid
)

select
    topic,
    count(*) as base,
    count(*) filter (where repeated) as affected,
    count(*) filter (where repeated and converted) as affected_converted,
    count(*) filter (where not repeated and converted) as unaffected_converted,
    {examples("repeated")} as example_ids
from flagged
group by topic
"""


def find(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any]) -> pd.DataFrame:
    """One candidate per contact topic, against the other topics."""
    frame = journey_examples(con, query(con, SQL, parameters), "example_ids")
    if frame.empty:
        return empty_candidates()
    frame = against_the_rest(frame, KIND)
    days = parameters["repeat_window_seconds"] / 86400
    return candidates(
        frame.assign(location=frame["topic"], segment_value=frame["topic"]),
        kind=KIND,
        segment="topic",
        unit="contacts",
        detail=f"{days:g} days",
    )


def explain(row: dict[str, Any]) -> str:
    return (
        f"{percent(row['rate'])} of {row['base']:,} contacts about {row['segment_value']} were followed by "
        f"another contact on the same topic within {row['detail']}{against(row, 'for other topics')}"
        f"{lost(row)}."
    )
