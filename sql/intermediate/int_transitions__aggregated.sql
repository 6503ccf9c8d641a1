-- grain: one row per unit ('session' or 'journey') and (from_touchpoint, to_touchpoint) pair
--   of consecutive steps inside that unit: moves, distinct customers, median and p90
--   seconds (the moves are grouped and joined by touchpoint codes)
-- time column: none (aggregated over all units)
-- parameters: none
-- quantiles are exact (quantile_cont's linear interpolation) without quantile_cont, which
--   holds every value in memory, and without sorting every timed move: a histogram of each
--   edge's moves over buckets of seconds (monotone: a later bucket never holds a shorter
--   move) says which bucket holds each wanted position; only those buckets' moves are ranked
with bucketed as (
    select
        from_code,
        to_code,
        in_session,
        seconds,
        case
            when seconds < 1000 then cast(floor(seconds * 10) as bigint)
            when seconds < 100000 then 10000 + cast(floor(seconds / 10) as bigint)
            else 20000 + cast(floor(seconds / 1000) as bigint)
        end as bucket
    from int_transition_moves__listed
    where seconds is not null
),

histogram as (
    select
        from_code,
        to_code,
        bucket,
        count(*) as journey_moves,
        count(*) filter (where in_session) as session_moves
    from bucketed
    group by from_code, to_code, bucket
),

-- each bucket's moves hold positions [.._before, .._before + .._moves) of the edge
cumulated as (
    select
        *,
        cast((sum(journey_moves) over edge_order) - journey_moves as bigint) as journey_before,
        cast((sum(session_moves) over edge_order) - session_moves as bigint) as session_before
    from histogram
    window edge_order as (partition by from_code, to_code order by bucket)
),

-- distinct: a bucket can hold several wanted positions (and an aggregate keeps the planner
--   from joining every move to the positions before filtering)
wanted as (
    select distinct c.from_code, c.to_code, c.bucket, c.journey_before, c.session_before
    from cumulated as c
    inner join int_transition_edges__counted as p on p.from_code = c.from_code and p.to_code = c.to_code
    where p.s50 between c.session_before and c.session_before + c.session_moves - 1
        or p.s50_up between c.session_before and c.session_before + c.session_moves - 1
        or p.s90 between c.session_before and c.session_before + c.session_moves - 1
        or p.s90_up between c.session_before and c.session_before + c.session_moves - 1
        or p.j50 between c.journey_before and c.journey_before + c.journey_moves - 1
        or p.j50_up between c.journey_before and c.journey_before + c.journey_moves - 1
        or p.j90 between c.journey_before and c.journey_before + c.journey_moves - 1
        or p.j90_up between c.journey_before and c.journey_before + c.journey_moves - 1
),

-- every timed move is a journey move (session moves and the moves between a journey's
--   sessions): numbered within the edge's journey moves and within its session moves
ranked as (
    select
        b.from_code,
        b.to_code,
        b.seconds,
        case when b.in_session then
            w.session_before - 1
            + row_number() over (partition by b.from_code, b.to_code, b.bucket, b.in_session
                order by b.seconds)
        end as session_position,
        w.journey_before - 1
            + row_number() over (partition by b.from_code, b.to_code, b.bucket order by b.seconds)
            as journey_position
    from bucketed as b
    inner join wanted as w
        on w.from_code = b.from_code and w.to_code = b.to_code and w.bucket = b.bucket
),

picked as (
    select
        p.from_code,
        p.to_code,
        max(case when r.session_position = p.s50 then r.seconds end) as s50_seconds,
        max(case when r.session_position = p.s50_up then r.seconds end) as s50_up_seconds,
        max(case when r.session_position = p.s90 then r.seconds end) as s90_seconds,
        max(case when r.session_position = p.s90_up then r.seconds end) as s90_up_seconds,
        max(case when r.journey_position = p.j50 then r.seconds end) as j50_seconds,
        max(case when r.journey_position = p.j50_up then r.seconds end) as j50_up_seconds,
        max(case when r.journey_position = p.j90 then r.seconds end) as j90_seconds,
        max(case when r.journey_position = p.j90_up then r.seconds end) as j90_up_seconds
    from ranked as r
    inner join int_transition_edges__counted as p on p.from_code = r.from_code and p.to_code = r.to_code
    where r.session_position in (p.s50, p.s50_up, p.s90, p.s90_up)
        or r.journey_position in (p.j50, p.j50_up, p.j90, p.j90_up)
    group by p.from_code, p.to_code
),

-- interpolated, and rounded to 0.1 µs: the last bits differ between engines
final as (
    select 'session' as unit, p.from_touchpoint, p.to_touchpoint, p.session_total as transitions,
        p.session_customers as customers,
        round(q.s50_seconds + (q.s50_up_seconds - q.s50_seconds) * (p.session_last * 0.5 - p.s50), 7)
            as median_seconds,
        round(q.s90_seconds + (q.s90_up_seconds - q.s90_seconds) * (p.session_last * 0.9 - p.s90), 7)
            as p90_seconds
    from int_transition_edges__counted as p left join picked as q using (from_code, to_code)
    where p.session_total > 0
    union all
    select 'journey', p.from_touchpoint, p.to_touchpoint, p.journey_total, p.journey_customers,
        round(q.j50_seconds + (q.j50_up_seconds - q.j50_seconds) * (p.journey_last * 0.5 - p.j50), 7),
        round(q.j90_seconds + (q.j90_up_seconds - q.j90_seconds) * (p.journey_last * 0.9 - p.j90), 7)
    from int_transition_edges__counted as p left join picked as q using (from_code, to_code)
    where p.journey_total > 0
)

select * from final
