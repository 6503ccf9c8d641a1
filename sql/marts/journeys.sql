-- grain: one row per journey: a customer's sessions up to and including the one with a
--   conversion, or until a gap of more than the inactivity limit
-- time column: journey_start
-- parameters: none (cfg_journey is applied in int_sessions__journeyed)
-- split_reason: why it started (first, conversion, inactivity); end_reason: conversion,
--   inactivity, or open (the customer's latest journey, not converted yet); channels:
--   the distinct channels it crossed, alphabetically (int_journeys__aggregated groups them)
-- zstd columns: touchpoint_sequence
--   (rarely repeated: the table took 8.3 s against 10.0 s to write at 100M events)
-- ids: journey_id is <customer_key>-j<journey_number>, as in int_sessions__journeyed and
--   sessions; built after grouping: as any_value() state of the group-by of 17.8M sessions
--   at 100M events, the strings made it 75.1 s against 43.5 s
with channel_names as (  -- code c is element c + 1, as in int_channel_names__coded
    select list_sort(list(channel)) as names
    from int_channel_names__coded
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
        -- codes follow channel order: sorted codes decode to alphabetical channels
        array_to_string(
            list_transform(g.channel_codes, lambda x: n.names[cast(x + 1 as integer)]), ','
        ) as channels,
        g.channel_count,
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
    from int_journeys__aggregated as g
    inner join int_customers__keyed as k on k.customer_number = g.customer_number
    cross join channel_names as n
)

select * from final
