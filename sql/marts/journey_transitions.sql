-- grain: one row per (from_touchpoint, to_touchpoint) pair of consecutive steps inside
--   journeys (across session boundaries), with '(start)' before each journey's first step
--   and '(exit)' after its last
-- time column: none (aggregated over all journeys); seconds are from one step to the next
-- parameters: cfg_session (collapse_repeats, as in session_transitions)
-- read from the narrow steps and sessions' journeys, not session_touchpoints; customers
--   counted by customer_number (one to one with customer_key)
with steps as (
    select
        t.touchpoint,
        t.customer_number,
        t.customer_seq = s.journey_first_seq as is_journey_start,
        case when t.next_in_session or (t.customer_seq = s.last_seq and s.next_session_in_journey)
            then t.next_customer_touchpoint end as next_journey_touchpoint,
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

edges as not materialized (
    select * from entries
    union all
    select * from moves
),

-- all below spills under the memory limit: edges (read 3 times) is not materialized, and
--   no quantile_cont or count(distinct); all three hold data in memory (OOM at 100M, 4 GB)
edge_counts as (
    select
        from_touchpoint,
        to_touchpoint,
        count(*) as transitions,
        count(seconds) as timed
    from edges
    group by from_touchpoint, to_touchpoint
),

edge_customers as (
    select from_touchpoint, to_touchpoint, count(*) as customers
    from (select distinct from_touchpoint, to_touchpoint, customer_number from edges) as d
    group by from_touchpoint, to_touchpoint
),

-- exact quantiles: each gap's 0-based position in its edge's order; quantile p lies
--   between positions floor and ceil of (timed - 1) * p
ranked as (
    select
        e.from_touchpoint,
        e.to_touchpoint,
        e.seconds,
        row_number() over (partition by e.from_touchpoint, e.to_touchpoint order by e.seconds) - 1
            as position
    from edges as e
    where e.seconds is not null
),

picked as (
    select
        r.from_touchpoint,
        r.to_touchpoint,
        max(case when r.position = floor((c.timed - 1) * 0.5) then r.seconds end) as median_low,
        max(case when r.position = ceil((c.timed - 1) * 0.5) then r.seconds end) as median_high,
        max(case when r.position = floor((c.timed - 1) * 0.9) then r.seconds end) as p90_low,
        max(case when r.position = ceil((c.timed - 1) * 0.9) then r.seconds end) as p90_high,
        any_value((c.timed - 1) * 0.5 - floor((c.timed - 1) * 0.5)) as median_fraction,
        any_value((c.timed - 1) * 0.9 - floor((c.timed - 1) * 0.9)) as p90_fraction
    from ranked as r
    inner join edge_counts as c
        on c.from_touchpoint = r.from_touchpoint and c.to_touchpoint = r.to_touchpoint
    where r.position in (
        floor((c.timed - 1) * 0.5), ceil((c.timed - 1) * 0.5),
        floor((c.timed - 1) * 0.9), ceil((c.timed - 1) * 0.9)
    )
    group by r.from_touchpoint, r.to_touchpoint
),

final as (
    select
        c.from_touchpoint,
        c.to_touchpoint,
        c.transitions,
        u.customers,
        -- rounded to 0.1 µs: the last bits of the interpolation differ between engines
        round(p.median_low + (p.median_high - p.median_low) * p.median_fraction, 7) as median_seconds,
        round(p.p90_low + (p.p90_high - p.p90_low) * p.p90_fraction, 7) as p90_seconds
    from edge_counts as c
    inner join edge_customers as u
        on u.from_touchpoint = c.from_touchpoint and u.to_touchpoint = c.to_touchpoint
    left join picked as p
        on p.from_touchpoint = c.from_touchpoint and p.to_touchpoint = c.to_touchpoint
)

select * from final
