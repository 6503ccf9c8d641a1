-- grain: one row per session (customer_number, segment_number, length_part) and channel
--   used in it: the small table both session and journey channel lists are built from
-- time column: first_ts (the session's first touchpoint on this channel)
-- parameters: none
-- channel_code: int_channel_names__coded's (codes follow channel order, so sorted codes
--   decode to alphabetical channels)
with final as (
    select
        customer_number,
        segment_number,
        length_part,
        channel_code,
        min(ts) as first_ts,
        count(*) as touchpoints
    from int_touchpoints__sessionized
    group by customer_number, segment_number, length_part, channel_code
)

select * from final
