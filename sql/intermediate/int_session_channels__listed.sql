-- grain: one row per session (customer_number, segment_number, length_part) and channel
--   used in it: the small table both session and journey channel lists are built from
-- time column: first_ts (the session's first touchpoint on this channel)
-- parameters: none
with final as (
    select
        customer_number,
        segment_number,
        length_part,
        channel,
        min(ts) as first_ts,
        count(*) as touchpoints
    from int_touchpoints__sessionized
    group by customer_number, segment_number, length_part, channel
)

select * from final
