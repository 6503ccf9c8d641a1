-- grain: one row per (from_touchpoint, to_touchpoint) pair of consecutive steps inside
--   sessions, with '(start)' before each session's first step and '(exit)' after its last
-- time column: none (aggregated over all sessions); seconds are from one step to the next
-- parameters: cfg_session (collapse_repeats: a run of one touchpoint counts once, timed
--   from its last occurrence)
-- read from the narrow sessionized steps, not session_touchpoints: a session's first step
--   is the one with a split_reason; customers are counted by customer_number, the internal
--   twin of customer_key (one to one)
with steps as (
    select
        t.touchpoint,
        t.customer_number,
        t.split_reason,
        case when t.next_in_session then t.next_customer_touchpoint end as next_touchpoint,
        case when t.next_in_session then round(epoch(t.next_ts) - epoch(t.ts), 6) end
            as seconds_to_next,
        s.collapse_repeats
    from int_touchpoints__sessionized as t
    cross join cfg_session as s
),

entries as (
    select
        '(start)' as from_touchpoint,
        touchpoint as to_touchpoint,
        customer_number,
        cast(null as double) as seconds
    from steps
    where split_reason is not null
),

moves as (
    select
        touchpoint as from_touchpoint,
        coalesce(next_touchpoint, '(exit)') as to_touchpoint,
        customer_number,
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
        count(distinct customer_number) as customers,
        -- rounded to 0.1 µs, where the exact quantiles of microsecond gaps lie: the last
        -- bits of the interpolation differ between engines (and DuckDB builds)
        round(quantile_cont(seconds, 0.5), 7) as median_seconds,
        round(quantile_cont(seconds, 0.9), 7) as p90_seconds
    from edges
    group by from_touchpoint, to_touchpoint
)

select * from final
