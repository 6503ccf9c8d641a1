-- grain: one row per (from_code, to_code) pair of consecutive steps, named (from_touchpoint,
--   to_touchpoint): its session and journey moves, distinct customers, and the 0-based
--   positions, in the edge's timed moves sorted by seconds, between which its median and
--   p90 lie
-- time column: none (aggregated over all units)
-- parameters: none (collapse_repeats is applied to the moves)
-- both units in one pass over the moves. Customers are counted by customer_number (one to one
--   with customer_key). All of it spills under the memory limit: no count(distinct), which
--   holds its data in memory (out of memory at 100M events, 4 GB)
with edge_customers as (
    select
        from_code,
        to_code,
        bool_or(in_session) as in_session,
        bool_or(in_journey) as in_journey,
        count(*) filter (where in_session) as session_moves,
        count(*) filter (where in_journey) as journey_moves,
        count(seconds) filter (where in_session) as session_timed,
        count(seconds) filter (where in_journey) as journey_timed
    from int_transition_moves__listed
    group by from_code, to_code, customer_number
),

-- quantile p lies between the 0-based positions floor and ceil of (timed - 1) * p in the
--   edge's sorted timed moves; computed once per edge, as integers
edges as (
    select
        from_code,
        to_code,
        cast(sum(session_moves) as bigint) as session_total,
        cast(sum(journey_moves) as bigint) as journey_total,
        count(*) filter (where in_session) as session_customers,
        count(*) filter (where in_journey) as journey_customers,
        cast(sum(session_timed) as bigint) - 1 as session_last,
        cast(sum(journey_timed) as bigint) - 1 as journey_last
    from edge_customers
    group by from_code, to_code
),

final as (
    select
        e.*,
        -- named once per edge: code -1 is '(start)', -2 '(exit)', c the touchpoint names[c + 1]
        case e.from_code when -1 then '(start)' else n.names[cast(e.from_code + 1 as integer)] end
            as from_touchpoint,
        case e.to_code when -2 then '(exit)' else n.names[cast(e.to_code + 1 as integer)] end
            as to_touchpoint,
        cast(floor(session_last * 0.5) as bigint) as s50, cast(ceil(session_last * 0.5) as bigint) as s50_up,
        cast(floor(session_last * 0.9) as bigint) as s90, cast(ceil(session_last * 0.9) as bigint) as s90_up,
        cast(floor(journey_last * 0.5) as bigint) as j50, cast(ceil(journey_last * 0.5) as bigint) as j50_up,
        cast(floor(journey_last * 0.9) as bigint) as j90, cast(ceil(journey_last * 0.9) as bigint) as j90_up
    from edges as e
    cross join (select list_sort(list(touchpoint)) as names from int_touchpoint_names__coded) as n
)

select * from final
