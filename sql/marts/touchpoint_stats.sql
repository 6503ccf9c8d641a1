-- grain: one row per touchpoint: how often it occurs, in how many sessions, and how often
--   a session ends there; exit_rate = exits / occurrences (the share of its
--   occurrences that were the last step of a session)
-- time column: none (aggregated over all sessions)
-- parameters: none
-- summed from int_touchpoint_customers__counted (a row per touchpoint and customer: a
--   customer is customer_number, one to one with customer_key), grouped by touchpoint_code
--   (int_touchpoint_names__coded) and named once per touchpoint
with counted as (
    select
        touchpoint_code,
        cast(sum(occurrences) as bigint) as occurrences,
        cast(sum(sessions) as bigint) as sessions,
        count(*) as customers,
        cast(sum(entries) as bigint) as entries,
        cast(sum(exits) as bigint) as exits,
        cast(sum(exits) as double) / sum(occurrences) as exit_rate
    from int_touchpoint_customers__counted
    group by touchpoint_code
),

final as (
    select n.touchpoint, c.* exclude (touchpoint_code)
    from counted as c
    inner join int_touchpoint_names__coded as n on n.code = c.touchpoint_code
)

select * from final
