-- grain: one row per touchpoint: how often it occurs, in how many sessions, and how often
--   a session ends there; exit_rate = exits / occurrences (the share of its
--   occurrences that were the last step of a session)
-- time column: none (aggregated over all sessions)
-- parameters: none
-- counted on the narrow sessionized steps, where a session is (customer_number,
--   segment_number, length_part) and a customer is customer_number (one to one with
--   session_id and customer_key): distinct counts become two group-bys over integers, not
--   count(distinct) over the id strings of session_touchpoints (which spills at 100M events)
-- a session's first step is the one with a split_reason (step 1), its last the one not
--   followed in the session (next_touchpoint is null)
with per_session as (
    select
        touchpoint,
        customer_number,
        count(*) as occurrences,
        count(*) filter (where split_reason is not null) as entries,
        count(*) filter (where not next_in_session) as exits
    from int_touchpoints__sessionized
    group by touchpoint, customer_number, segment_number, length_part
),

per_customer as (
    select
        touchpoint,
        sum(occurrences) as occurrences,
        count(*) as sessions,
        sum(entries) as entries,
        sum(exits) as exits
    from per_session
    group by touchpoint, customer_number
),

final as (
    select
        touchpoint,
        cast(sum(occurrences) as bigint) as occurrences,
        cast(sum(sessions) as bigint) as sessions,
        count(*) as customers,
        cast(sum(entries) as bigint) as entries,
        cast(sum(exits) as bigint) as exits,
        cast(sum(exits) as double) / sum(occurrences) as exit_rate
    from per_customer
    group by touchpoint
)

select * from final
