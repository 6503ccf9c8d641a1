-- grain: one row per journey step, with its session_id, journey_id, step numbers and the
--   next step inside the same session and inside the same journey (null at the end)
-- time column: ts
-- parameters: none
with joined as (
    select
        t.*,
        s.session_id,
        s.journey_id,
        s.session_number,
        t.customer_seq - s.first_seq + 1 as step,
        t.customer_seq - s.journey_first_seq + 1 as journey_step,
        t.next_in_session
        or (t.customer_seq = s.last_seq and s.next_session_in_journey) as next_in_journey
    from int_touchpoints__sessionized as t
    inner join int_sessions__journeyed as s
        on s.customer_key = t.customer_key
        and s.segment_number = t.segment_number
        and s.length_part = t.length_part
),

final as (
    select
        *,
        case when next_in_session then next_customer_touchpoint end as next_touchpoint,
        case when next_in_session then round(epoch(next_ts) - epoch(ts), 6) end
            as seconds_to_next,
        case when next_in_journey then next_customer_touchpoint end as next_journey_touchpoint,
        case when next_in_journey then round(epoch(next_ts) - epoch(ts), 6) end
            as seconds_to_next_in_journey
    from joined
)

select * from final
