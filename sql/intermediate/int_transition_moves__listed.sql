-- grain: one row per move between consecutive steps, flagged with the units it belongs to
--   (in_session, in_journey): a move inside a session is a move of its journey too; '(start)'
--   before a unit's first step and '(exit)' after its last; journeys cross session boundaries
-- time column: none; seconds are from one step to the next (null for '(start)' and '(exit)')
-- parameters: cfg_session (collapse_repeats: a run of one touchpoint counts once, timed from
--   its last occurrence)
-- slice key: int_touchpoints__sessionized.customer_number (the engine may build it range by
--   range of customers: at 100M events, 4GB, the join of the sessions' boundary steps to
--   their journeys spills; in 10 ranges, alternating in one build, 18.2 and 18.8 s against 25.3
--   and 28.4 s, and the two models reading the moves 24.2 and 20.5 s against 19.7 and 20.2 s)
-- storage: persistent (read by three models): compressed in the database file, it is
--   cheaper to re-read than a temp table spilled uncompressed once the build outgrows memory
-- touchpoints by code (int_touchpoint_names__coded), '(start)' -1 and '(exit)' -2: the moves
--   are grouped three times, and rows without text are lighter (named in
--   int_transition_edges__counted, once per edge)
-- one table for both units, so session and journey transitions are aggregated in one pass;
--   only session boundaries (first and last steps) are joined to their journey
with steps as (
    select
        t.touchpoint_code,
        t.customer_number,
        t.segment_number,
        t.length_part,
        t.customer_seq,
        t.split_code,
        t.next_in_session,
        t.next_touchpoint_code,
        round(epoch(t.next_ts) - epoch(t.ts), 6) as seconds_to_next,
        coalesce(t.next_touchpoint_code = t.touchpoint_code, false) and s.collapse_repeats as repeats
    from int_touchpoints__sessionized as t
    cross join cfg_session as s
),

boundaries as (
    select
        t.*,
        t.customer_seq = j.journey_first_seq as starts_journey,
        j.next_session_in_journey
    from steps as t
    inner join int_sessions__journeyed as j
        on j.customer_number = t.customer_number
        and j.segment_number = t.segment_number
        and j.length_part = t.length_part
    where t.split_code is not null or not t.next_in_session
),

final as (
    select
        touchpoint_code as from_code, next_touchpoint_code as to_code, customer_number,
        seconds_to_next as seconds, true as in_session, true as in_journey
    from steps where next_in_session and not repeats
    union all
    select -1, touchpoint_code, customer_number, cast(null as double), true, starts_journey
    from boundaries where split_code is not null
    union all
    select touchpoint_code, -2, customer_number, cast(null as double), true, not next_session_in_journey
    from boundaries where not next_in_session
    union all
    select touchpoint_code, next_touchpoint_code, customer_number, seconds_to_next, false, true
    from boundaries where not next_in_session and next_session_in_journey and not repeats
)

select * from final
