-- grain: one row per journey step (touchpoint occurrence), placed in its session, which
--   is identified by (customer_number, segment_number, length_part); split_code is set on
--   a session's first step only, and next_in_session is false on its last step only
-- time column: ts (UTC); a customer's steps are ordered by ts, then ingest_seq
-- parameters: cfg_session (timeout_seconds, max_length_seconds, split_by_channel,
--   use_source_session_id), cfg_channel_timeouts (by the later touchpoint's channel)
-- storage: persistent (read by five models, by session_touchpoints once per range):
--   compressed in the database file, it is cheaper to re-read than a temp table spilled
--   uncompressed once the build outgrows memory
-- codes, not text: touchpoint_code and next_touchpoint_code are int_touchpoint_names__coded's,
--   channel_code int_channel_names__coded's, and split_code says why a session starts
--   (1 first, 2 timeout, 3 source_session, 4 channel, 5 max_length; int_sessions__aggregated
--   names it). Rows without text sort faster through both windows (10M, memory_limit
--   400MB: 8.4 against 11.6 s), are written and re-read faster, and make lighter group-by
--   keys and states downstream; only the models that show a name decode it
-- both windows sort narrow rows: only the columns carried to the output and what the
--   enabled split rules compare; the other touchpoint columns are joined in
--   session_touchpoints
with channels as (
    select c.channel, c.code, ct.timeout_seconds
    from int_channel_names__coded as c
    left join cfg_channel_timeouts as ct on ct.channel = c.channel
),

steps as (
    select
        t.customer_number, t.ts, t.ingest_seq, ch.code as channel_code, tp.code as touchpoint_code,
        t.is_conversion, t.is_cart, t.is_checkout,
        coalesce(ch.timeout_seconds, s.timeout_seconds) as timeout_seconds,
        case when s.split_by_channel then ch.code end as split_channel,
        case when s.use_source_session_id then t.source_session_id end as split_source_session
    from int_touchpoints__stitched as t
    cross join cfg_session as s
    left join int_touchpoint_names__coded as tp on tp.touchpoint = t.touchpoint
    left join channels as ch on ch.channel = t.channel
),

-- first pass: the step number and why a step starts a segment (from the previous step)
neighbours as (
    select
        customer_number, ts, ingest_seq, channel_code, touchpoint_code,
        is_conversion, is_cart, is_checkout,
        row_number() over customer_order as customer_seq,
        -- 1 first, 2 timeout, 3 source_session, 4 channel (5 max_length: in final)
        cast(case
            when lag(ts) over customer_order is null then 1
            when round(epoch(ts) - epoch(lag(ts) over customer_order), 6) > timeout_seconds then 2
            when split_source_session is distinct from lag(split_source_session) over customer_order
                then 3
            when split_channel <> lag(split_channel) over customer_order then 4
        end as tinyint) as break_reason,
        lag(ts) over customer_order as previous_ts
    from steps
    window customer_order as (partition by customer_number order by ts, ingest_seq)
),

-- second pass, in the same order: the running segment number and start, and the next
-- step (computed here, not carried through this pass's sort as extra columns)
segments as (
    select
        *,
        cast(sum(case when break_reason is null then 0 else 1 end) over customer_order as bigint)
            as segment_number,
        max(case when break_reason is not null then ts end) over customer_order as segment_start,
        lead(break_reason) over customer_order is not null as next_is_break,
        lead(ts) over customer_order as next_ts,
        lead(touchpoint_code) over customer_order as next_touchpoint_code
    from neighbours
    window customer_order as (partition by customer_number order by customer_seq)
),

-- max_length cuts a segment into windows of that length counted from its start
parts as (
    select
        g.*,
        case when s.max_length_seconds is null or g.break_reason is not null then 0
            else greatest(cast(ceil(
                round(epoch(g.previous_ts) - epoch(g.segment_start), 6) / s.max_length_seconds
            ) as bigint) - 1, 0)
        end as previous_part,
        case when s.max_length_seconds is null then 0
            else greatest(cast(ceil(
                round(epoch(g.ts) - epoch(g.segment_start), 6) / s.max_length_seconds
            ) as bigint) - 1, 0)
        end as length_part,
        case when s.max_length_seconds is null or g.next_ts is null then 0
            else greatest(cast(ceil(
                round(epoch(g.next_ts) - epoch(g.segment_start), 6) / s.max_length_seconds
            ) as bigint) - 1, 0)
        end as next_part
    from segments as g
    cross join cfg_session as s
),

final as (
    select
        ingest_seq, ts, channel_code, touchpoint_code, customer_number,
        is_conversion, is_cart, is_checkout, customer_seq, segment_number, length_part,
        cast(coalesce(break_reason, case when length_part > previous_part then 5 end) as tinyint)
            as split_code,
        next_ts is not null and not next_is_break and next_part = length_part as next_in_session,
        next_ts,
        next_touchpoint_code
    from parts
)

select * from final
