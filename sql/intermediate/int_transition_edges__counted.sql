-- grain: one row per (from_touchpoint, to_touchpoint) pair of consecutive steps: its session
--   and journey moves, distinct customers, and the 0-based positions, in the edge's timed
--   moves sorted by seconds, between which its median and p90 lie
-- time column: none (aggregated over all units)
-- parameters: none (collapse_repeats is applied to the moves)
-- both units in one pass over the moves. Customers are counted by customer_number (one to one
--   with customer_key). All of it spills under the memory limit: no count(distinct), which
--   holds its data in memory (out of memory at 100M events, 4 GB)
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

final as (
    select
        *,
        cast(floor(session_last * 0.5) as bigint) as s50, cast(ceil(session_last * 0.5) as bigint) as s50_up,
        cast(floor(session_last * 0.9) as bigint) as s90, cast(ceil(session_last * 0.9) as bigint) as s90_up,
        cast(floor(journey_last * 0.5) as bigint) as j50, cast(ceil(journey_last * 0.5) as bigint) as j50_up,
        cast(floor(journey_last * 0.9) as bigint) as j90, cast(ceil(journey_last * 0.9) as bigint) as j90_up
    from edges
)

select * from final
