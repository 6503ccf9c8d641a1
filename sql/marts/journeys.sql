-- grain: one row per journey: a customer's sessions up to and including the one with a
--   conversion, or until a gap of more than the inactivity limit
-- time column: journey_start
-- parameters: none (cfg_journey is applied in int_sessions__journeyed)
-- split_reason: why it started (first, conversion, inactivity); end_reason: conversion,
--   inactivity, or open (the customer's latest journey, not converted yet)
with journey_channels as (
    select journey_id, channel, min(journey_step) as first_step
    from int_touchpoints__journeyed
    group by journey_id, channel
),

channels as (
    select
        journey_id,
        string_agg(channel, ',' order by first_step) as channels,
        count(*) as channel_count
    from journey_channels
    group by journey_id
),

grouped as (
    select
        journey_id,
        min(customer_key) as customer_key,
        min(journey_number) as journey_number,
        min(session_start) as journey_start,
        max(session_end) as journey_end,
        count(*) as sessions,
        cast(sum(touchpoints) as bigint) as touchpoints,
        bool_or(converted) as converted,
        max(conversion_touchpoint) as conversion_touchpoint,
        max(conversion_ts) as conversion_ts,
        arg_min(first_touchpoint, session_number) as first_touchpoint,
        arg_max(last_touchpoint, session_number) as last_touchpoint,
        string_agg(touchpoint_sequence, ' > ' order by session_number) as touchpoint_sequence,
        max(journey_split_reason) as split_reason,
        bool_or(is_last_session) as is_latest
    from int_sessions__journeyed
    group by journey_id
),

final as (
    select
        g.journey_id,
        g.customer_key,
        g.journey_number,
        g.journey_start,
        g.journey_end,
        round(epoch(g.journey_end) - epoch(g.journey_start), 6) as duration_seconds,
        g.sessions,
        g.touchpoints,
        c.channels,
        c.channel_count,
        g.converted,
        g.conversion_touchpoint,
        g.conversion_ts,
        g.first_touchpoint,
        g.last_touchpoint,
        g.touchpoint_sequence,
        g.split_reason,
        case
            when g.converted then 'conversion'
            when g.is_latest then 'open'
            else 'inactivity'
        end as end_reason
    from grouped as g
    inner join channels as c on c.journey_id = g.journey_id
)

select * from final
