-- grain: one row per session: a customer's run of touchpoints without a gap longer than
--   the session timeout (see int_touchpoints__sessionized for every split rule)
-- time column: session_start
-- parameters: none (cfg_session and cfg_journey are applied upstream)
-- split_reason: why this session started: first, timeout, max_length, source_session, channel
with final as (
    select
        session_id,
        journey_id,
        customer_key,
        session_number,
        session_start,
        session_end,
        duration_seconds,
        touchpoints,
        channels,
        channel_count,
        converted,
        conversion_touchpoint,
        conversion_ts,
        reached_cart,
        reached_checkout,
        first_touchpoint,
        last_touchpoint,
        touchpoint_sequence,
        split_reason
    from int_sessions__journeyed
)

select * from final
