-- grain: one row per touchpoint: how often it occurs, in how many sessions, and how often
--   a session ends there; exit_rate = exits / occurrences (the share of its
--   occurrences that were the last step of a session)
-- time column: none (aggregated over all sessions)
-- parameters: none
with final as (
    select
        touchpoint,
        count(*) as occurrences,
        count(distinct session_id) as sessions,
        count(distinct customer_key) as customers,
        count(*) filter (where step = 1) as entries,
        count(*) filter (where next_touchpoint is null) as exits,
        cast(count(*) filter (where next_touchpoint is null) as double) / count(*) as exit_rate
    from session_touchpoints
    group by touchpoint
)

select * from final
