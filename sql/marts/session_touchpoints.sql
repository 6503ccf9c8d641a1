-- grain: one row per journey step (touchpoint occurrence), numbered from 1 within its
--   session (step) and its journey (journey_step), with the next step inside the same
--   session (next_touchpoint) and inside the same journey (next_journey_touchpoint)
-- time column: ts (UTC)
-- parameters: none (sessions and journeys are defined upstream)
-- ingest_seq: the canonical touchpoints row the step is (its key in touchpoints)
-- slice key: touchpoints.ingest_seq (the engine may build it range by range: the join
--   below holds every step's touchpoint columns, more than memory at 100M events)
-- zstd columns: event_id
--   (an md5 per row: stored with zstd, its write takes half the time of DuckDB's default)
-- the touchpoint's own columns are joined to the narrow sessionized steps first, by
--   ingest_seq (unique); only then are the sessions joined
-- names: the steps carry codes (int_touchpoint_names__coded, int_channel_names__coded),
--   decoded here before the joins (code c is element c + 1 of the sorted names; the index
--   cast to integer: only then does sqlglot shift it to Spark's 0-based lists). Decoded
--   first, the steps are the wider side, so DuckDB builds the join's hash table from
--   touchpoints and streams the steps through it: rows come out in the steps' (customer)
--   order, where a session's ids repeat and compress. With the names decoded after the
--   joins, it built from the steps and wrote in touchpoint order: 16.6 against 9.8 s at 10M
--   (tests/test_duckdb_engine.py checks the plan). The choice follows DuckDB's estimates:
--   where many touchpoints are not steps (excluded ones), it builds from the steps anyway
with names as (
    select (select list_sort(list(touchpoint)) from int_touchpoint_names__coded) as touchpoints,
        (select list_sort(list(channel)) from int_channel_names__coded) as channels
),

named as (
    select
        t.*,
        n.touchpoints[cast(t.touchpoint_code + 1 as integer)] as touchpoint,
        n.channels[cast(t.channel_code + 1 as integer)] as channel,
        -- a null code is not looked up: Spark (ANSI) fails on a null index as on index -1
        case when t.next_touchpoint_code is not null
            then n.touchpoints[cast(t.next_touchpoint_code + 1 as integer)] end as next_customer_touchpoint
    from int_touchpoints__sessionized as t
    cross join names as n
),

details as (
    select
        t.*,
        d.device,
        d.page,
        d.wait_seconds,
        d.handle_seconds,
        d.outcome,
        d.topic,
        d.satisfaction,
        d.revenue,
        d.source,
        d.event_id
    from named as t
    inner join touchpoints as d on d.ingest_seq = t.ingest_seq
),

steps as (
    select
        t.*,
        s.customer_key,
        s.session_id,
        s.journey_id,
        s.session_number,
        s.journey_number,
        t.customer_seq - s.first_seq + 1 as step,
        t.customer_seq - s.journey_first_seq + 1 as journey_step,
        t.next_in_session
        or (t.customer_seq = s.last_seq and s.next_session_in_journey) as next_in_journey
    from details as t
    inner join int_sessions__journeyed as s
        on s.customer_number = t.customer_number
        and s.segment_number = t.segment_number
        and s.length_part = t.length_part
),

final as (
    select
        session_id,
        journey_id,
        customer_key,
        session_number,
        journey_number,
        step,
        journey_step,
        ts,
        touchpoint,
        channel,
        device,
        page,
        wait_seconds,
        handle_seconds,
        outcome,
        topic,
        satisfaction,
        revenue,
        is_conversion,
        is_cart,
        is_checkout,
        case when next_in_session then next_customer_touchpoint end as next_touchpoint,
        case when next_in_session then round(epoch(next_ts) - epoch(ts), 6) end
            as seconds_to_next,
        case when next_in_journey then next_customer_touchpoint end as next_journey_touchpoint,
        case when next_in_journey then round(epoch(next_ts) - epoch(ts), 6) end
            as seconds_to_next_in_journey,
        source,
        event_id,
        ingest_seq
    from steps
)

select * from final
