"""Friction *states* in the transition graph, and what removing or fixing them is worth.

Occurrences affected by friction get their own node, relabelled in SQL before the session
transitions are counted (``(start)`` before each session, ``(exit)`` after it, as in
``session_transitions``, without collapsing repeats):

- escalation: a help visit followed by a contact -> ``web:help:x -> call``
- long_wait: a contact's opening touchpoint with a long wait -> ``call:queued[wait>5min]``
- repeat_contact: a contact that repeats an earlier one -> ``chat:started[repeat]``
- loop: the return to A of A -> B -> A -> ``web:cart[loop via web:product]``
- low_satisfaction: the touchpoint carrying a low rating -> ``chat:rated[rating<=2]``

An occurrence with several labels keeps the first in that order. Error touchpoints and
abandoned-contact touchpoints are states already and keep their names.

For each state, ``graph.removal_effects`` gives the relative drop in P(convert | start)
when the chain cannot pass through it. For relabelled states, ``conversion_if_fixed`` is
P(convert | start) when the state behaves like its plain touchpoint (its outgoing
probabilities replaced by those of ``base_touchpoint``), and ``fix_effect`` the relative
gain.
"""

from __future__ import annotations

from typing import Any

import duckdb
import networkx as nx
import pandas as pd

from journey_mining.config import Config
from journey_mining.friction.common import query, sql_parameters
from journey_mining.friction.errors import ERROR_TOUCHPOINTS
from journey_mining.friction.escalation import ESCALATIONS
from journey_mining.friction.loop import LOOPS
from journey_mining.friction.prepared import friction_tables
from journey_mining.friction.repeat_contact import REPEATS
from journey_mining.graph import START, build_graph, conversion_probabilities, removal_effects

STATE_COLUMNS = (
    "state",
    "kind",
    "base_touchpoint",
    "occurrences",
    "removal_effect",
    "conversion_without",
    "baseline_conversion",
    "conversion_if_fixed",
    "fix_effect",
)

STATES_SQL = f"""
create or replace temp table _friction_states as
with {ESCALATIONS},

{REPEATS},

{LOOPS},

relabels as (
    select v.sid, v.step, v.touchpoint || ' -> ' || e.contact_channel as state,
        'escalation' as kind, v.touchpoint as base_touchpoint, 1 as priority
    from help_visits as v
    inner join escalations as e on e.sid = v.sid and e.step = v.step
    union all
    select sid, step, touchpoint || $wait_label, 'long_wait', touchpoint, 2
    from _fr_contacts
    where wait_seconds > $long_wait_seconds
    union all
    select sid, step, touchpoint || '[repeat]', 'repeat_contact', touchpoint, 3
    from _fr_contacts
    where contact_id in (select repeat_contact_id from repeats)
    union all
    select l.sid, l.step + 2, pa.touchpoint || '[loop via ' || pb.touchpoint || ']', 'loop', pa.touchpoint, 4
    from loop_steps as l
    inner join _fr_touchpoints as pa on pa.tp = l.a
    inner join _fr_touchpoints as pb on pb.tp = l.b
    union all
    select sid, step, touchpoint || $rating_label, 'low_satisfaction', touchpoint, 5
    from _fr_events
    where satisfaction <= $low_satisfaction_max and not is_conversion
)

select
    sid,
    step,
    min_by(state, priority) as state,
    min_by(kind, priority) as kind,
    min_by(base_touchpoint, priority) as base_touchpoint
from relabels
group by sid, step
"""
"""Over the prepared ``_fr_*`` tables (see ``prepared``)."""

TRANSITIONS_SQL = """
with labelled as (
    select t.sid, t.step, coalesce(s.state, p.touchpoint) as state
    from _fr_steps as t
    inner join _fr_touchpoints as p on p.tp = t.tp
    left join _friction_states as s on s.sid = t.sid and s.step = t.step
),

moves as (
    select '(start)' as from_touchpoint, state as to_touchpoint
    from labelled
    where step = 1
    union all
    select state, coalesce(lead(state) over (partition by sid order by step), '(exit)')
    from labelled
)

select from_touchpoint, to_touchpoint, count(*) as transitions
from moves
group by from_touchpoint, to_touchpoint
order by from_touchpoint, to_touchpoint
"""

CATALOG_SQL = f"""
with {ERROR_TOUCHPOINTS}

select state, kind, base_touchpoint, count(*) as occurrences
from _friction_states
group by state, kind, base_touchpoint
union all
select p.touchpoint, 'error_touchpoint', null, count(*)
from _fr_steps as t
inner join _fr_touchpoints as p on p.tp = t.tp
where t.tp in (select tp from error_touchpoints)
group by p.touchpoint
union all
select p.touchpoint, 'abandoned_contact', null, count(*)
from _fr_steps as t
inner join _fr_touchpoints as p on p.tp = t.tp
where list_contains(cast($abandoned_contact_touchpoints as varchar[]), p.touchpoint)
group by p.touchpoint
order by kind, state
"""


def state_labels(config: Config) -> dict[str, str]:
    """The suffixes of long-wait and low-rating states, from their thresholds."""
    friction = config.friction
    seconds = friction.long_wait_seconds
    wait = f"[wait>{seconds / 60:g}min]" if seconds % 60 == 0 else f"[wait>{seconds:g}s]"
    return {"wait_label": wait, "rating_label": f"[rating<={friction.low_satisfaction_max:g}]"}


def friction_state_transitions(
    con: duckdb.DuckDBPyConnection, config: Config
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(session transitions with friction states, the states: kind, base touchpoint, count)."""
    parameters = sql_parameters(config) | state_labels(config)
    with friction_tables(con, parameters):
        query(con, STATES_SQL, parameters)
        try:
            transitions = query(con, TRANSITIONS_SQL, parameters)
            catalog = query(con, CATALOG_SQL, parameters)
        finally:
            con.execute("drop table if exists _friction_states")
    return transitions, catalog


def friction_state_effects(con: duckdb.DuckDBPyConnection, config: Config) -> pd.DataFrame:
    """Removal effect (and fix effect) of every friction state on P(convert | start)."""
    transitions, catalog = friction_state_transitions(con, config)
    if transitions.empty or catalog.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in STATE_COLUMNS})
    graph = build_graph(transitions)
    conversions = set(config.conversion_touchpoints)
    catalog = catalog[catalog["state"].isin(list(graph.nodes))]
    effects = removal_effects(graph, conversions, {s: [s] for s in catalog["state"]})
    frame = catalog.merge(effects.rename(columns={"removed": "state"}), on="state", how="left")
    baseline = conversion_probabilities(graph, conversions).get(START, 0.0)
    fixed = [
        _fixed_conversion(graph, conversions, state, base)
        for state, base in zip(frame["state"], frame["base_touchpoint"], strict=True)
    ]
    frame["conversion_if_fixed"] = pd.Series(fixed, index=frame.index, dtype="float64")
    frame["fix_effect"] = (
        (frame["conversion_if_fixed"] - baseline) / baseline if baseline > 0 else float("nan")
    )
    return frame.loc[:, list(STATE_COLUMNS)].sort_values(
        ["removal_effect", "state"], ascending=[False, True], ignore_index=True
    )


def _fixed_conversion(graph: nx.DiGraph, conversions: set[str], state: str, base: Any) -> float | None:
    """P(convert | start) when ``state`` leaves like ``base`` does; None without a base."""
    if base is None or pd.isna(base) or base not in graph:
        return None
    fixed = graph.copy()
    fixed.remove_edges_from(list(graph.out_edges(state)))
    for _, target, probability in graph.out_edges(base, data="probability"):
        fixed.add_edge(state, target, probability=probability)
    return conversion_probabilities(fixed, conversions).get(START, 0.0)
