-- grain: one row per unit ('session' or 'journey') and (from_touchpoint, to_touchpoint) pair
--   of consecutive steps inside that unit: moves, distinct customers, median and p90 seconds
-- time column: none (aggregated over all units)
-- parameters: none (collapse_repeats is applied to the moves)
-- both units in one pass over the moves. Customers are counted by customer_number (one to one
--   with customer_key). All of it spills under the memory limit: no quantile_cont and no
--   count(distinct), which hold their data in memory (out of memory at 100M events, 4 GB)
with edge_customers as (
    select
        from_touchpoint,
        to_touchpoint,
        bool_or(in_session) as in_session,
        bool_or(in_journey) as in_journey,
        count(*) filter (where in_session) as session_moves,
        count(*) filter (where in_journey) as journey_moves,
        count(seconds) filter (where in_session) as session_timed,
        count(seconds) filter (where in_journey) as journey_timed
    from int_transition_moves__listed
    group by from_touchpoint, to_touchpoint, customer_number
),

-- quantile p lies between the 0-based positions floor and ceil of (timed - 1) * p in the
--   edge's sorted timed moves; computed once per edge, as integers
edges as (
    select
        from_touchpoint,
        to_touchpoint,
        cast(sum(session_moves) as bigint) as session_total,
        cast(sum(journey_moves) as bigint) as journey_total,
        count(*) filter (where in_session) as session_customers,
        count(*) filter (where in_journey) as journey_customers,
        cast(sum(session_timed) as bigint) - 1 as session_last,
        cast(sum(journey_timed) as bigint) - 1 as journey_last
    from edge_customers
    group by from_touchpoint, to_touchpoint
),

positions as (
    select
        *,
        cast(floor(session_last * 0.5) as bigint) as s50, cast(ceil(session_last * 0.5) as bigint) as s50_up,
        cast(floor(session_last * 0.9) as bigint) as s90, cast(ceil(session_last * 0.9) as bigint) as s90_up,
        cast(floor(journey_last * 0.5) as bigint) as j50, cast(ceil(journey_last * 0.5) as bigint) as j50_up,
        cast(floor(journey_last * 0.9) as bigint) as j90, cast(ceil(journey_last * 0.9) as bigint) as j90_up
    from edges
),

-- every timed move is a journey move (session moves and the moves between a journey's
--   sessions); numbered within the edge's journey moves and within its session moves
ranked as (
    select
        from_touchpoint,
        to_touchpoint,
        seconds,
        case when in_session then
            row_number() over (partition by from_touchpoint, to_touchpoint, in_session order by seconds) - 1
        end as session_position,
        row_number() over (partition by from_touchpoint, to_touchpoint order by seconds) - 1
            as journey_position
    from int_transition_moves__listed
    where seconds is not null
),

picked as (
    select
        p.from_touchpoint,
        p.to_touchpoint,
        max(case when r.session_position = p.s50 then r.seconds end) as s50_seconds,
        max(case when r.session_position = p.s50_up then r.seconds end) as s50_up_seconds,
        max(case when r.session_position = p.s90 then r.seconds end) as s90_seconds,
        max(case when r.session_position = p.s90_up then r.seconds end) as s90_up_seconds,
        max(case when r.journey_position = p.j50 then r.seconds end) as j50_seconds,
        max(case when r.journey_position = p.j50_up then r.seconds end) as j50_up_seconds,
        max(case when r.journey_position = p.j90 then r.seconds end) as j90_seconds,
        max(case when r.journey_position = p.j90_up then r.seconds end) as j90_up_seconds
    from ranked as r
    inner join positions as p on p.from_touchpoint = r.from_touchpoint and p.to_touchpoint = r.to_touchpoint
    where r.session_position in (p.s50, p.s50_up, p.s90, p.s90_up)
        or r.journey_position in (p.j50, p.j50_up, p.j90, p.j90_up)
    group by p.from_touchpoint, p.to_touchpoint
),

-- interpolated, and rounded to 0.1 µs: the last bits differ between engines
final as (
    select 'session' as unit, p.from_touchpoint, p.to_touchpoint, p.session_total as transitions,
        p.session_customers as customers,
        round(q.s50_seconds + (q.s50_up_seconds - q.s50_seconds) * (p.session_last * 0.5 - p.s50), 7)
            as median_seconds,
        round(q.s90_seconds + (q.s90_up_seconds - q.s90_seconds) * (p.session_last * 0.9 - p.s90), 7)
            as p90_seconds
    from positions as p left join picked as q using (from_touchpoint, to_touchpoint)
    where p.session_total > 0
    union all
    select 'journey', p.from_touchpoint, p.to_touchpoint, p.journey_total, p.journey_customers,
        round(q.j50_seconds + (q.j50_up_seconds - q.j50_seconds) * (p.journey_last * 0.5 - p.j50), 7),
        round(q.j90_seconds + (q.j90_up_seconds - q.j90_seconds) * (p.journey_last * 0.9 - p.j90), 7)
    from positions as p left join picked as q using (from_touchpoint, to_touchpoint)
    where p.journey_total > 0
)

select * from final
