-- grain: one row per (touchpoint_code, customer_number) of a step: the customer's steps at
--   that touchpoint, the sessions they are in, and how many of them start or end a session
-- time column: none (aggregated over all sessions)
-- parameters: none
-- counted on the narrow sessionized steps, where a session is (customer_number,
--   segment_number, length_part): distinct counts become two group-bys over integers, not
--   count(distinct) over the id strings of session_touchpoints (which spills at 100M events)
-- a session's first step is the one with a split_code (step 1), its last the one not
--   followed in the session (next_in_session is false)
-- slice key: int_touchpoints__sessionized.customer_number (the engine may build it range
--   by range of customers: its group-by of 100M steps into about 60M (touchpoint, session)
--   groups spills with a 4GB limit; with touchpoint_stats in one query the two took 15.1 and
--   17.3 s at 100M events, in ten ranges and then the mart 11.9 and 12.4 s, same rows)
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

final as (
    select
        touchpoint_code,
        customer_number,
        cast(sum(occurrences) as bigint) as occurrences,
        count(*) as sessions,
        cast(sum(entries) as bigint) as entries,
        cast(sum(exits) as bigint) as exits
    from per_session
    group by touchpoint_code, customer_number
)

select * from final
