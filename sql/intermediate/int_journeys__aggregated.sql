-- grain: one row per journey (customer_number, journey_number): a customer's sessions up to
--   and including the one with a conversion, or until a gap of more than the inactivity
--   limit, aggregated; the journeys mart names it (journey_id, customer_key, channels)
-- time column: journey_start
-- parameters: none (cfg_journey is applied in int_sessions__journeyed)
-- slice key: int_sessions__journeyed.customer_number (the engine may build it range by range
--   of customers: the group-by holds every session's touchpoint_sequence string in its list
--   states, which spill at 100M events with a 4GB limit: built with the mart in one query,
--   journeys took 41.0 and 41.7 s there, as this model in two ranges and the mart 29.9 and
--   34.7 s, same rows)
-- lists are sorted after aggregating (list_sort), never aggregated in order; channel_codes:
--   the distinct channel codes (int_channel_names__coded) it crossed, sorted
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

channels as (
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
    select g.*, c.channel_codes, c.channel_count
    from grouped as g
    inner join channels as c
        on c.customer_number = g.customer_number and c.journey_number = g.journey_number
)

select * from final
