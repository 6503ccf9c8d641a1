-- grain: one row per (from_touchpoint, to_touchpoint) pair of consecutive steps inside
--   sessions, with '(start)' before each session's first step and '(exit)' after its last
-- time column: none (aggregated over all sessions); seconds are from one step to the next
-- parameters: cfg_session (collapse_repeats: a run of one touchpoint counts once, timed
--   from its last occurrence)
with steps as (
    select t.*, s.collapse_repeats
    from session_touchpoints as t
    cross join cfg_session as s
),

entries as (
    select
        '(start)' as from_touchpoint,
        touchpoint as to_touchpoint,
        customer_key,
        cast(null as double) as seconds
    from steps
    where step = 1
),

moves as (
    select
        touchpoint as from_touchpoint,
        coalesce(next_touchpoint, '(exit)') as to_touchpoint,
        customer_key,
        seconds_to_next as seconds
    from steps
    where not (collapse_repeats and coalesce(next_touchpoint = touchpoint, false))
),

edges as (
    select * from entries
    union all
    select * from moves
),

final as (
    select
        from_touchpoint,
        to_touchpoint,
        count(*) as transitions,
        count(distinct customer_key) as customers,
        -- rounded to 0.1 µs, where the exact quantiles of microsecond gaps lie: the last
        -- bits of the interpolation differ between engines (and DuckDB builds)
        round(quantile_cont(seconds, 0.5), 7) as median_seconds,
        round(quantile_cont(seconds, 0.9), 7) as p90_seconds
    from edges
    group by from_touchpoint, to_touchpoint
)

select * from final
