-- stg_calls_csv: a flat call-detail export (CSV or Parquet, column-mapped) as call touchpoints.
-- Grain: one row per step of one call, or one reject row per unusable record.
--   sub_seq 1 queued, 2 abandoned_in_queue, 3 answered, 5 ended / order_placed,
--   6 ended_in_ivr / unanswered (never queued nor answered) -- the same steps as stg_connect.
-- Time column: ts (naive UTC). Parameters: _load_context (source, time_zone for offset-less times).
-- Queued = a queue start or queue_seconds > 0; answered = answered_at or talk_seconds > 0;
-- abandoned = queued and never answered. Durations must be numbers from 0 to 1e9 seconds.
with ctx as (
    select * from _load_context
),

parsed as (
    select
        i.*,
        ctx.source as source_name,
        nullif(trim(i.call_id), '') as call_key,
        jm_ts(i.start_time, ctx.time_zone) as started_at,
        jm_ts(nullif(trim(i.queued_at), ''), ctx.time_zone) as queued_at_ts,
        jm_ts(nullif(trim(i.answered_at), ''), ctx.time_zone) as answered_at_ts,
        jm_ts(nullif(trim(i.end_time), ''), ctx.time_zone) as ended_at,
        jm_ts(nullif(trim(i.updated_at), ''), ctx.time_zone) as updated_at_ts,
        jm_num(nullif(trim(i.queue_seconds), '')) as queue_value,
        jm_num(nullif(trim(i.talk_seconds), '')) as talk_value,
        jm_num(nullif(trim(i.hold_seconds), '')) as hold_value,
        jm_num(nullif(trim(i.revenue), '')) as revenue_value,
        nullif(trim(i.anonymous_id), '') as anonymous_key,
        jm_hash(nullif(trim(i.user_id), '')) as user_id_hash,
        jm_hash(jm_email(i.email)) as email_hash,
        jm_hash(jm_phone(i.phone)) as phone_hash,
        coalesce(jm_slug(i.outcome), jm_slug(i.disposition)) as outcome_value
    from _input as i
    cross join ctx
),

checked as (
    select
        *,
        coalesce(
            case when call_key is null then 'missing call_id' end,
            regexp_replace(jm_ts_problem(start_time, started_at), 'timestamp', 'start_time'),
            case
                when anonymous_key is null and user_id_hash is null
                    and email_hash is null and phone_hash is null
                    then 'no customer identifier'
            end,
            case when nullif(trim(queued_at), '') is not null
                then regexp_replace(jm_ts_problem(queued_at, queued_at_ts), 'timestamp', 'queued_at') end,
            case when nullif(trim(answered_at), '') is not null
                then regexp_replace(jm_ts_problem(answered_at, answered_at_ts), 'timestamp', 'answered_at') end,
            case when nullif(trim(end_time), '') is not null
                then regexp_replace(jm_ts_problem(end_time, ended_at), 'timestamp', 'end_time') end,
            case when nullif(trim(updated_at), '') is not null
                then regexp_replace(jm_ts_problem(updated_at, updated_at_ts), 'timestamp', 'updated_at') end,
            case when nullif(trim(queue_seconds), '') is not null and queue_value is null
                then 'queue_seconds is not a number: ' || left(queue_seconds, 40) end,
            case when nullif(trim(talk_seconds), '') is not null and talk_value is null
                then 'talk_seconds is not a number: ' || left(talk_seconds, 40) end,
            case when nullif(trim(hold_seconds), '') is not null and hold_value is null
                then 'hold_seconds is not a number: ' || left(hold_seconds, 40) end,
            -- durations move timestamps: a negative or absurd one is no call (and no overflow)
            case when not queue_value between 0 and 1e9
                then 'queue_seconds out of range: ' || left(trim(queue_seconds), 40) end,
            case when not talk_value between 0 and 1e9
                then 'talk_seconds out of range: ' || left(trim(talk_seconds), 40) end,
            case when not hold_value between 0 and 1e9
                then 'hold_seconds out of range: ' || left(trim(hold_seconds), 40) end,
            case when nullif(trim(revenue), '') is not null and revenue_value is null
                then 'revenue is not a number: ' || left(revenue, 40) end
        ) as reject_reason
    from parsed
),

classified as (
    select
        *,
        queued_at_ts is not null or coalesce(queue_value > 0, false) as was_queued,
        answered_at_ts is not null or coalesce(talk_value > 0, false) as was_answered,
        coalesce(queued_at_ts, started_at) as queue_start
    from checked
    where reject_reason is null
),

timed as (
    select
        *,
        case when was_queued then coalesce(
            queue_value,
            epoch(answered_at_ts) - epoch(queued_at_ts),
            case when not was_answered then epoch(ended_at) - epoch(queued_at_ts) end
        ) end as wait_seconds,
        queue_start + to_microseconds(cast(coalesce(queue_value, 0) * 1e6 as bigint)) as queue_left_at
    from classified
),

answered as (
    select
        *,
        case when was_answered then coalesce(answered_at_ts, queue_left_at) end as answered_ts,
        coalesce(talk_value, epoch(ended_at) - epoch(answered_at_ts)) as handle_seconds
    from timed
),

steps as (
    select
        *,
        list_filter([
            {'sub_seq': 1, 'activity': 'queued', 'outcome': null::varchar,
             'ts': case when was_queued then queue_start end,
             'wait': wait_seconds, 'handle': null::double, 'revenue': null::double},
            {'sub_seq': 2, 'activity': 'abandoned_in_queue', 'outcome': 'abandoned',
             'ts': case when was_queued and not was_answered then coalesce(ended_at, queue_left_at) end,
             'wait': wait_seconds, 'handle': null, 'revenue': null},
            {'sub_seq': 3, 'activity': 'answered', 'outcome': null,
             'ts': answered_ts, 'wait': wait_seconds, 'handle': handle_seconds, 'revenue': null},
            {'sub_seq': 5,
             'activity': case when outcome_value = 'order_placed' then 'order_placed' else 'ended' end,
             'outcome': outcome_value,
             'ts': case when was_answered then coalesce(
                 ended_at, answered_ts + to_microseconds(cast(talk_value * 1e6 as bigint))) end,
             'wait': wait_seconds, 'handle': handle_seconds,
             'revenue': case when outcome_value = 'order_placed' then revenue_value end},
            {'sub_seq': 6,
             'activity': case
                 when outcome_value = 'order_placed' then 'order_placed'
                 when lower(trim(direction)) like 'out%' then 'unanswered'
                 else 'ended_in_ivr'
             end,
             'outcome': outcome_value,
             'ts': case when not was_queued and not was_answered then coalesce(ended_at, started_at) end,
             'wait': null, 'handle': null,
             'revenue': case when outcome_value = 'order_placed' then revenue_value end}
        ], lambda s: s.ts is not null) as happened
    from answered
),

expanded as (
    -- never empty: a usable call is queued, answered, or unreached (at end_time or start_time)
    select *, unnest(happened) as step from steps
),

touchpoints as (
    select
        source_row,
        step.sub_seq as sub_seq,
        cast(null as varchar) as reject_reason,
        cast(null as varchar) as raw,
        md5(source_name || '|' || call_key || '|' || step.activity) as event_id,
        'call:' || call_key as record_key,
        updated_at_ts as record_version,
        anonymous_key as anonymous_id,
        user_id_hash,
        email_hash,
        phone_hash,
        step.ts as ts,
        'call' as channel,
        'call:' || step.activity as touchpoint,
        nullif(trim(direction), '') as event_name,
        coalesce(nullif(trim(session_id), ''), call_key) as source_session_id,
        cast(null as varchar) as page,
        'phone' as device,
        step.wait as wait_seconds,
        step.handle as handle_seconds,
        step.outcome as outcome,
        cast(null as double) as satisfaction,
        jm_slug(topic) as topic,
        step.revenue as revenue,
        json_object(
            'call_id', call_key,
            'direction', nullif(trim(direction), ''),
            'disposition', nullif(trim(disposition), ''),
            'agent', nullif(trim(agent), ''),
            'queue_seconds', queue_value,
            'talk_seconds', talk_value,
            'hold_seconds', hold_value
        ) as attributes
    from expanded
),

rejects as (
    select
        source_row,
        0 as sub_seq,
        reject_reason,
        raw,
        null as event_id,
        null as record_key,
        cast(null as timestamp) as record_version,
        null as anonymous_id,
        null as user_id_hash,
        null as email_hash,
        null as phone_hash,
        cast(null as timestamp) as ts,
        null as channel,
        null as touchpoint,
        null as event_name,
        null as source_session_id,
        null as page,
        null as device,
        cast(null as double) as wait_seconds,
        cast(null as double) as handle_seconds,
        null as outcome,
        cast(null as double) as satisfaction,
        null as topic,
        cast(null as double) as revenue,
        cast(null as json) as attributes
    from checked
    where reject_reason is not null
),

final as (
    select * from touchpoints
    union all by name
    select * from rejects
)

select * from final
