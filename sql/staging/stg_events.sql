-- stg_events: one row per record of a generic event log (CSV or Parquet, column-mapped).
-- Grain: one touchpoint per input record, or one reject row (reject_reason set).
-- Time column: ts (naive UTC). Parameters: _load_context (source, time_zone, channel).
-- Reads _input (source_row, mapped text columns, raw) prepared by the events adapter.
with ctx as (
    select * from _load_context
),

parsed as (
    select
        i.*,
        jm_ts(i.ts, ctx.time_zone) as ts_utc,
        nullif(trim(i.anonymous_id), '') as anonymous_key,
        jm_hash(nullif(trim(i.user_id), '')) as user_id_hash,
        jm_hash(jm_email(i.email)) as email_hash,
        jm_hash(jm_phone(i.phone)) as phone_hash,
        coalesce(jm_slug(i.channel), ctx.channel, 'web') as channel_name,
        jm_slug(i.event_name) as activity,
        jm_num(i.wait_seconds) as wait_value,
        jm_num(i.handle_seconds) as handle_value,
        jm_num(i.satisfaction) as satisfaction_value,
        jm_num(i.revenue) as revenue_value,
        ctx.source as source_name
    from _input as i
    cross join ctx
),

checked as (
    select
        *,
        coalesce(
            jm_ts_problem(ts, ts_utc),
            case when activity is null then 'missing event name' end,
            case
                when anonymous_key is null and user_id_hash is null
                    and email_hash is null and phone_hash is null
                    then 'no customer identifier'
            end,
            case when wait_seconds is not null and wait_value is null
                then 'wait_seconds is not a number: ' || left(wait_seconds, 40) end,
            case when handle_seconds is not null and handle_value is null
                then 'handle_seconds is not a number: ' || left(handle_seconds, 40) end,
            case when satisfaction is not null and satisfaction_value is null
                then 'satisfaction is not a number: ' || left(satisfaction, 40) end,
            case when revenue is not null and revenue_value is null
                then 'revenue is not a number: ' || left(revenue, 40) end
        ) as reject_reason
    from parsed
),

final as (
    select
        source_row,
        0 as sub_seq,
        reject_reason,
        raw,
        md5(source_name || '|' || coalesce(
            'id:' || nullif(trim(event_id), ''),
            concat_ws('|', anonymous_key, user_id_hash, email_hash, phone_hash,
                      cast(ts_utc as varchar), activity, page, channel_name)
        )) as event_id,
        md5(source_name || '|' || coalesce(
            'id:' || nullif(trim(event_id), ''),
            concat_ws('|', anonymous_key, user_id_hash, email_hash, phone_hash,
                      cast(ts_utc as varchar), activity, page, channel_name)
        )) as record_key,
        cast(null as timestamp) as record_version,
        anonymous_key as anonymous_id,
        user_id_hash,
        email_hash,
        phone_hash,
        ts_utc as ts,
        channel_name as channel,
        channel_name || ':' || activity as touchpoint,
        event_name,
        nullif(trim(session_id), '') as source_session_id,
        nullif(trim(page), '') as page,
        jm_slug(device) as device,
        wait_value as wait_seconds,
        handle_value as handle_seconds,
        jm_slug(outcome) as outcome,
        satisfaction_value as satisfaction,
        jm_slug(topic) as topic,
        revenue_value as revenue,
        cast(null as json) as attributes
    from checked
)

select * from final
