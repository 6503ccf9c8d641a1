-- grain: one row per touchpoint: how often it occurs, in how many sessions, and how often
--   a session ends there; exit_rate = exits / occurrences (the share of its
--   occurrences that were the last step of a session)
-- time column: none (aggregated over all sessions)
-- parameters: none
-- counted on the narrow sessionized steps, where a session is (customer_number,
--   segment_number, length_part) and a customer is customer_number (one to one with
--   session_id and customer_key): distinct counts become two group-bys over integers, not
--   count(distinct) over the id strings of session_touchpoints (which spills at 100M events)
-- a session's first step is the one with a split_code (step 1), its last the one not
--   followed in the session (next_in_session is false)
-- grouped by touchpoint_code (int_touchpoint_names__coded), named once per touchpoint
with per_session as (
    select
        touchpoint_code,
        customer_number,
        count(*) as occurrences,
        count(*) filter (where split_code is not null) as entries,
        count(*) filter (where not next_in_session) as exits
    from int_touchpoints__sessionized
    group by touchpoint_code, customer_number, segment_number, length_part
),

per_customer as (
    select
        touchpoint_code,
        sum(occurrences) as occurrences,
        count(*) as sessions,
        sum(entries) as entries,
        sum(exits) as exits
    from per_session
    group by touchpoint_code, customer_number
),

counted as (
    select
        touchpoint_code,
        cast(sum(occurrences) as bigint) as occurrences,
        cast(sum(sessions) as bigint) as sessions,
        count(*) as customers,
        cast(sum(entries) as bigint) as entries,
        cast(sum(exits) as bigint) as exits,
        cast(sum(exits) as double) / sum(occurrences) as exit_rate
    from per_customer
    group by touchpoint_code
),

final as (
    select n.touchpoint, c.* exclude (touchpoint_code)
    from counted as c
    inner join int_touchpoint_names__coded as n on n.code = c.touchpoint_code
)

select * from final
