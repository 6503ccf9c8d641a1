-- grain: one row per session: a customer's run of touchpoints without a gap longer than
--   the session timeout (see int_touchpoints__sessionized for every split rule)
-- time column: session_start
-- parameters: none (cfg_session and cfg_journey are applied upstream)
-- zstd columns: touchpoint_sequence
--   (rarely repeated: 4.0 s against 5.2 s to write 17.8M at 100M events)
-- split_reason: why this session started: first, timeout, max_length, source_session, channel
-- ids: session_id is <customer_key>-s<session_number> and journey_id <customer_key>-j<journey_number>
--   (built here after the join: carried through the join of 17.8M sessions at 100M events,
--   journeyed's strings made it 44.7 s against 29.3 s)
with final as (
    select
        k.customer_key || '-s' || cast(j.session_number as varchar) as session_id,
        k.customer_key || '-j' || cast(j.journey_number as varchar) as journey_id,
        k.customer_key,
        j.session_number,
        a.session_start,
        a.session_end,
        a.duration_seconds,
        a.touchpoints,
        a.channels,
        a.channel_count,
        a.converted,
        a.conversion_touchpoint,
        a.conversion_ts,
        a.reached_cart,
        a.reached_checkout,
        a.first_touchpoint,
        a.last_touchpoint,
        a.touchpoint_sequence,
        a.split_reason
    from int_sessions__aggregated as a
    inner join int_sessions__journeyed as j
        on j.customer_number = a.customer_number
        and j.segment_number = a.segment_number
        and j.length_part = a.length_part
    inner join int_customers__keyed as k on k.customer_number = a.customer_number
)

select * from final
