-- grain: one row per journey step (touchpoint occurrence) in its session, numbered from 1
--   within the session (step) and within the journey (journey_step)
-- time column: ts (UTC)
-- parameters: none (sessions and journeys are defined upstream)
with final as (
    select
        session_id,
        journey_id,
        customer_key,
        session_number,
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
        next_touchpoint,
        seconds_to_next,
        source,
        event_id
    from int_touchpoints__journeyed
)

select * from final
