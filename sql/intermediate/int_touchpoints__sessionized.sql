-- grain: one row per journey step (touchpoint occurrence), placed in its session, which
--   is identified by (customer_number, segment_number, length_part); split_reason is set on
--   a session's first step only
-- time column: ts (UTC); a customer's steps are ordered by ts, then ingest_seq
-- parameters: cfg_session (timeout_seconds, max_length_seconds, split_by_channel,
--   use_source_session_id), cfg_channel_timeouts (by the later touchpoint's channel)
with steps as (
    select
        t.*,
        coalesce(ct.timeout_seconds, s.timeout_seconds) as timeout_seconds,
        s.max_length_seconds,
        s.split_by_channel,
        s.use_source_session_id,
        -- only what the enabled options compare is carried into the window
        case when s.split_by_channel then t.channel end as split_channel,
        case when s.use_source_session_id then t.source_session_id end as split_source_session
    from int_touchpoints__stitched as t
    cross join cfg_session as s
    left join cfg_channel_timeouts as ct on ct.channel = t.channel
),

-- the one shared window: everything about both neighbours comes from a single sort
neighbours as (
    select
        *,
        row_number() over customer_order as customer_seq,
        lag(ts) over customer_order as previous_ts,
        lag(split_channel) over customer_order as previous_split_channel,
        lag(split_source_session) over customer_order as previous_split_source_session,
        lead(ts) over customer_order as next_ts,
        lead(touchpoint) over customer_order as next_customer_touchpoint
    from steps
    window customer_order as (partition by customer_number order by ts, ingest_seq)
),

breaks as (
    select
        *,
        case
            when previous_ts is null then 'first'
            when round(epoch(ts) - epoch(previous_ts), 6) > timeout_seconds then 'timeout'
            when use_source_session_id
                and split_source_session is distinct from previous_split_source_session
                then 'source_session'
            when split_by_channel and split_channel <> previous_split_channel then 'channel'
        end as break_reason
    from neighbours
),

-- second pass, only where a running value is needed: segment number and start
segments as (
    select
        *,
        cast(sum(case when break_reason is null then 0 else 1 end) over customer_order as bigint)
            as segment_number,
        max(case when break_reason is not null then ts end) over customer_order
            as segment_start,
        lead(break_reason) over customer_order as next_break_reason
    from breaks
    window customer_order as (partition by customer_number order by customer_seq)
),

-- max_length cuts a segment into windows of that length counted from its start
elapsed as (
    select
        *,
        round(epoch(previous_ts) - epoch(segment_start), 6) as previous_elapsed,
        round(epoch(ts) - epoch(segment_start), 6) as current_elapsed,
        round(epoch(next_ts) - epoch(segment_start), 6) as next_elapsed
    from segments
),

parts as (
    select
        *,
        case when max_length_seconds is null or break_reason is not null then 0
            else greatest(cast(ceil(previous_elapsed / max_length_seconds) as bigint) - 1, 0)
        end as previous_part,
        case when max_length_seconds is null then 0
            else greatest(cast(ceil(current_elapsed / max_length_seconds) as bigint) - 1, 0)
        end as length_part,
        case when max_length_seconds is null or next_ts is null then 0
            else greatest(cast(ceil(next_elapsed / max_length_seconds) as bigint) - 1, 0)
        end as next_part
    from elapsed
),

final as (
    select
        ingest_seq, ts, channel, touchpoint, customer_number,
        is_conversion, is_cart, is_checkout,
        customer_seq,
        segment_number,
        length_part,
        coalesce(break_reason, case when length_part > previous_part then 'max_length' end)
            as split_reason,
        next_ts is not null and next_break_reason is null and next_part = length_part
            as next_in_session,
        next_ts,
        next_customer_touchpoint
    from parts
)

select * from final
