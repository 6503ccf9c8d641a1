-- grain: one row per session (customer_number, segment_number, length_part), with its
--   extent in the customer's step order (first_seq, last_seq) and its step sequence
-- time column: session_start
-- parameters: none
-- channels: the distinct channels used, alphabetically, joined with ','
with channels as (
    select
        customer_number,
        segment_number,
        length_part,
        string_agg(channel, ',' order by channel) as channels,
        count(*) as channel_count
    from int_session_channels__listed
    group by customer_number, segment_number, length_part
),

steps as (
    select
        customer_number,
        segment_number,
        length_part,
        min(ts) as session_start,
        max(ts) as session_end,
        round(epoch(max(ts)) - epoch(min(ts)), 6) as duration_seconds,
        min(customer_seq) as first_seq,
        max(customer_seq) as last_seq,
        count(*) as touchpoints,
        bool_or(is_conversion) as converted,
        arg_min(touchpoint, customer_seq) filter (where is_conversion) as conversion_touchpoint,
        min(ts) filter (where is_conversion) as conversion_ts,
        bool_or(is_cart) as reached_cart,
        bool_or(is_checkout) as reached_checkout,
        arg_min(touchpoint, customer_seq) as first_touchpoint,
        arg_max(touchpoint, customer_seq) as last_touchpoint,
        string_agg(touchpoint, ' > ' order by customer_seq) as touchpoint_sequence,
        max(split_reason) as split_reason
    from int_touchpoints__sessionized
    group by customer_number, segment_number, length_part
),

final as (
    select s.*, c.channels, c.channel_count
    from steps as s
    inner join channels as c
        on c.customer_number = s.customer_number
        and c.segment_number = s.segment_number
        and c.length_part = s.length_part
)

select * from final
