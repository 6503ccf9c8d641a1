-- grain: one row per (from_touchpoint, to_touchpoint) pair of consecutive steps inside
--   journeys (across session boundaries), with '(start)' before each journey's first step
--   and '(exit)' after its last
-- time column: none (aggregated over all journeys); seconds are from one step to the next
-- parameters: cfg_session (collapse_repeats, as in session_transitions)
-- read from the narrow sessionized steps and the sessions' journey placement, not
--   session_touchpoints; customers are counted by customer_number (one to one with
--   customer_key)
with steps as (
    select
        t.touchpoint,
        t.customer_number,
        t.customer_seq = s.journey_first_seq as is_journey_start,
        case when t.next_in_session or (t.customer_seq = s.last_seq and s.next_session_in_journey)
            then t.next_customer_touchpoint
        end as next_journey_touchpoint,
        case when t.next_in_session or (t.customer_seq = s.last_seq and s.next_session_in_journey)
            then round(epoch(t.next_ts) - epoch(t.ts), 6)
        end as seconds_to_next_in_journey,
        c.collapse_repeats
    from int_touchpoints__sessionized as t
    inner join int_sessions__journeyed as s
        on s.customer_number = t.customer_number
        and s.segment_number = t.segment_number
        and s.length_part = t.length_part
    cross join cfg_session as c
),

entries as (
    select
        '(start)' as from_touchpoint,
        touchpoint as to_touchpoint,
        customer_number,
        cast(null as double) as seconds
    from steps
    where is_journey_start
),

moves as (
    select
        touchpoint as from_touchpoint,
        coalesce(next_journey_touchpoint, '(exit)') as to_touchpoint,
        customer_number,
        seconds_to_next_in_journey as seconds
    from steps
    where not (collapse_repeats and coalesce(next_journey_touchpoint = touchpoint, false))
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
