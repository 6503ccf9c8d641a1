"""cart_abandonment and checkout_abandonment: carts left without a conversion after them.

Unit: carts (sessions with a cart, resp. checkout, touchpoint). A cart is abandoned when
no conversion follows the session's first cart touchpoint in the same session (the
funnel's definition: ``funnel(con, [cart, conversion])`` drops the same sessions). It is
*recovered* when the same customer converts on another channel than the cart's, after
the session's last touchpoint and within ``cart_recovery_window_hours`` of it (a phone
order the next morning).

Rows: one 'all' row (descriptive: no comparison group, so no test and no loss
estimate), and, when sessions have more than one device, one row per device against the
pooled other devices. For a device row,
conversions_lost = max(affected - baseline_rate * base, 0) * (1 - recovered / affected):
an excess abandoned cart would have converted in the session (that is what not
abandoning means), unless it was recovered elsewhere anyway.
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
    other_devices,
    outcome_gap,
    percent,
    pool_others,
    query,
)
from journey_mining.friction.prepared import examples, journey_examples

KINDS = {"cart": "cart_abandonment", "checkout": "checkout_abandonment"}

SQL = f"""
with cart_steps as (
    select
        sid,
        min(step) as cart_step,
        arg_min(tp, step) as cart_tp,
        arg_min(ch, step) as cart_ch
    from _fr_steps
    where (is_cart and $role = 'cart') or (is_checkout and $role = 'checkout')
    group by sid
),

carts as (
    select
        c.sid,
        c.cart_step,
        p.touchpoint as cart_touchpoint,
        h.channel as cart_channel,
        s.jid,
        s.cid,
        s.device,
        s.session_end,
        coalesce(s.last_conversion_step > c.cart_step, false) as converted
    from cart_steps as c
    inner join _fr_session_facts as s on s.sid = c.sid
    inner join _fr_touchpoints as p on p.tp = c.cart_tp
    left join _fr_channels as h on h.ch = c.cart_ch
),

conversions as (
    select cid, channel, ts from _fr_events where is_conversion
),

recovered as (
    select distinct c.sid
    from carts as c
    inner join conversions as v on v.cid = c.cid
    where not c.converted
        and v.channel <> c.cart_channel
        and v.ts > c.session_end
        and epoch(v.ts) - epoch(c.session_end) <= $recovery_window_seconds
),

flagged as (
    select c.*, not c.converted as abandoned, r.sid is not null as recovered
    from carts as c
    left join recovered as r on r.sid = c.sid
)

select
    case when grouping(device) = 1 then 'all' else 'device' end as segment,
    coalesce(device, 'all') as segment_value,
    string_agg(distinct cart_touchpoint, ' | ' order by cart_touchpoint) as touchpoint,
    string_agg(distinct cart_channel, ' | ' order by cart_channel) as channel,
    count(*) as base,
    count(*) filter (where abandoned) as affected,
    count(*) filter (where recovered) as recovered,
    {examples("abandoned")} as example_ids
from flagged
group by grouping sets ((), (device))
"""
"""Over the prepared ``_fr_*`` tables (see ``prepared``)."""


def find(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any]) -> pd.DataFrame:
    """Cart and checkout abandonment: overall, and per device against the other devices."""
    frames = [_find_role(con, parameters, role) for role in KINDS]
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else empty_candidates()


def _find_role(con: duckdb.DuckDBPyConnection, parameters: dict[str, Any], role: str) -> pd.DataFrame:
    frame = journey_examples(con, query(con, SQL, {**parameters, "role": role}), "example_ids")
    overall = frame[frame["segment"] == "all"]
    if overall.empty or int(overall["base"].iloc[0]) == 0:
        return pd.DataFrame()
    location = str(overall["touchpoint"].iloc[0])
    devices = frame[frame["segment"] == "device"]
    rows = [overall.assign(baseline_affected=0, baseline_base=0, loss_probability=float("nan"))]
    if len(devices) > 1:
        devices = pool_others(devices, ["segment"])
        devices["loss_probability"] = outcome_gap(
            devices["affected"], devices["base"], devices["recovered"], devices["base"] - devices["affected"]
        )
        names = devices["segment_value"].tolist()
        devices["detail"] = [other_devices(names, name) for name in names]
        rows.append(devices)
    out = pd.concat(rows, ignore_index=True)
    out["touchpoint"] = location
    return candidates(out, kind=KINDS[role], location=location, unit="carts")


def explain(row: dict[str, Any]) -> str:
    step = "checkout" if row["kind"] == "checkout_abandonment" else "cart"
    recovered = int(row["recovered"]) if row["recovered"] is not None and not pd.isna(row["recovered"]) else 0
    recovery = f", {recovered:,} of them recovered by a conversion on another channel" if recovered else ""
    if row["segment"] == "all":
        return (
            f"{row['affected']:,} of {row['base']:,} sessions with a {step} ({percent(row['rate'])}) "
            f"ended without a conversion after it{recovery}."
        )
    return (
        f"On {row['segment_value']}, {percent(row['rate'])} of {row['base']:,} sessions with a {step} "
        f"ended without a conversion{against(row, str(row['detail']))}{recovery}{lost(row)}."
    )
