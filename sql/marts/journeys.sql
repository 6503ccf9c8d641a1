-- grain: one row per journey: a customer's sessions up to and including the one with a
--   conversion, or until a gap of more than the inactivity limit
-- time column: journey_start
-- parameters: none (cfg_journey is applied in int_sessions__journeyed)
-- split_reason: why it started (first, conversion, inactivity); end_reason: conversion,
--   inactivity, or open (the customer's latest journey, not converted yet); channels:
--   the distinct channels it crossed, alphabetically; lists are sorted after aggregating
--   (list_sort), never aggregated in order
-- zstd columns: touchpoint_sequence
--   (rarely repeated: the table took 8.3 s against 10.0 s to write at 100M events)
-- ids: journey_id is <customer_key>-j<journey_number>, as in int_sessions__journeyed and
--   sessions; built after grouping: as any_value() state of the group-by of 17.8M sessions
--   at 100M events, the strings made it 75.1 s against 43.5 s
with journey_sessions as (
    select a.*, j.journey_number, j.session_number,
        j.journey_split_reason, j.next_session_in_journey, j.is_last_session
    from int_sessions__aggregated as a
    inner join int_sessions__journeyed as j
        on j.customer_number = a.customer_number
        and j.segment_number = a.segment_number
        and j.length_part = a.length_part
),

journey_channels as (
    select distinct j.customer_number, j.journey_number, c.channel_code
    from int_session_channels__listed as c
    inner join int_sessions__journeyed as j
        on j.customer_number = c.customer_number
        and j.segment_number = c.segment_number
        and j.length_part = c.length_part
),

channel_names as (  -- code c is element c + 1, as in int_channel_names__coded
    select list_sort(list(channel)) as names
    from int_channel_names__coded
),

channels as (  -- codes follow channel order: sorted codes decode to alphabetical channels
    select
        customer_number,
        journey_number,
        list_sort(list(channel_code)) as channel_codes,
        count(*) as channel_count
    from journey_channels
    group by customer_number, journey_number
),

grouped as (
    select
        customer_number,
        journey_number,
        min(session_start) as journey_start,
        max(session_end) as journey_end,
        count(*) as sessions,
        cast(sum(touchpoints) as bigint) as touchpoints,
        bool_or(converted) as converted,
        max(conversion_touchpoint) as conversion_touchpoint,
        max(conversion_ts) as conversion_ts,
        -- the journey's first session has a split reason; its last is not followed by one
        -- of the same journey
        max(first_touchpoint) filter (where journey_split_reason is not null) as first_touchpoint,
        max(last_touchpoint) filter (where not next_session_in_journey) as last_touchpoint,
        array_to_string(
            list_transform(
                list_sort(list({'number': session_number, 'sequence': touchpoint_sequence})),
                lambda x: x.sequence
            ),
            ' > '
        ) as touchpoint_sequence,
        max(journey_split_reason) as split_reason,
        bool_or(is_last_session) as is_latest
    from journey_sessions
    group by customer_number, journey_number
),

final as (
    select
        k.customer_key || '-j' || cast(g.journey_number as varchar) as journey_id,
        k.customer_key,
        g.journey_number,
        g.journey_start,
        g.journey_end,
        round(epoch(g.journey_end) - epoch(g.journey_start), 6) as duration_seconds,
        g.sessions,
        g.touchpoints,
        array_to_string(
            list_transform(c.channel_codes, lambda x: n.names[cast(x + 1 as integer)]), ','
        ) as channels,
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
    inner join channels as c
        on c.customer_number = g.customer_number and c.journey_number = g.journey_number
    inner join int_customers__keyed as k on k.customer_number = g.customer_number
    cross join channel_names as n
)

select * from final
