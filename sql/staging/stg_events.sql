-- stg_events: one row per record of a generic event log (CSV or Parquet, column-mapped).
-- Grain: one touchpoint per input record, or one reject row (reject_reason set).
-- Time column: ts (naive UTC). Parameters: _load_context (source, time_zone, channel).
-- Reads _input (source_row, mapped text columns, ts_at, raw) prepared by the events adapter:
-- ts_at is the instant of a typed timestamp column when it is in the accepted range (ts is
-- then NULL); otherwise ts is the text, which jm_ts parses and jm_ts_problem explains.
-- Low-cardinality text (channel, event name, device, outcome, topic) is normalised once
-- per distinct value, and each distinct user id, email and phone hashed once, then joined back.
with ctx as (
    select * from _load_context
),

distinct_values as (
    select list(distinct channel) || list(distinct event_name) || list(distinct device)
        || list(distinct outcome) || list(distinct topic) as vals
    from _input
),

slugs as (
    -- each distinct low-cardinality value normalised once
    select value, jm_slug(value) as slug
    from (select distinct unnest(vals) as value from distinct_values)
),

user_hashes as (
    -- a user id repeats on many events: hash each one once
    select user_id, jm_hash(nullif(trim(user_id), '')) as user_id_hash
    from (select distinct user_id from _input where user_id is not null)
),

email_hashes as (
    -- so does an email (HMAC-SHA256 is two hashes per value): each one checked and hashed once
    select email, jm_hash(jm_email(email)) as email_hash
    from (select distinct email from _input where email is not null)
),

phone_hashes as (
    select phone, jm_hash(jm_phone(phone)) as phone_hash
    from (select distinct phone from _input where phone is not null)
),

parsed as (
    select
        i.*,
        coalesce(i.ts_at, jm_ts(i.ts, ctx.time_zone)) as ts_utc,
        nullif(trim(i.anonymous_id), '') as anonymous_key,
        u.user_id_hash,
        e.email_hash,
        p.phone_hash,
        coalesce(channel_slug.slug, ctx.channel, 'web') as channel_name,
        activity_slug.slug as activity,
        device_slug.slug as device_name,
        outcome_slug.slug as outcome_name,
        topic_slug.slug as topic_name,
        jm_num(i.wait_seconds) as wait_value,
        jm_num(i.handle_seconds) as handle_value,
        jm_num(i.satisfaction) as satisfaction_value,
        jm_num(i.revenue) as revenue_value,
        ctx.source as source_name
    from _input as i
    cross join ctx
    left join user_hashes as u on i.user_id = u.user_id
    left join email_hashes as e on i.email = e.email
    left join phone_hashes as p on i.phone = p.phone
    left join slugs as channel_slug on i.channel = channel_slug.value
    left join slugs as activity_slug on i.event_name = activity_slug.value
    left join slugs as device_slug on i.device = device_slug.value
    left join slugs as outcome_slug on i.outcome = outcome_slug.value
    left join slugs as topic_slug on i.topic = topic_slug.value
),

checked as (
    select
        *,
        coalesce(
            case when ts_at is null then jm_ts_problem(ts, ts_utc) end,
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
        ) as reject_reason,
        -- the native key, hashed once: event_id and record_key are the same value
        md5(source_name || '|' || coalesce(
            'id:' || nullif(trim(event_id), ''),
            concat_ws('|', anonymous_key, user_id_hash, email_hash, phone_hash,
                      cast(ts_utc as varchar), activity, page, channel_name)
        )) as native_key,
        -- a key made from the record's content includes its time, so the key fixes the day
        case when nullif(trim(event_id), '') is null then cast(ts_utc as date) end as key_day
    from parsed
),

final as (
    select
        source_row,
        0 as sub_seq,
        reject_reason,
        raw,
        native_key as event_id,
        native_key as record_key,
        key_day,
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
        device_name as device,
        wait_value as wait_seconds,
        handle_value as handle_seconds,
        outcome_name as outcome,
        satisfaction_value as satisfaction,
        topic_name as topic,
        revenue_value as revenue,
        cast(null as json) as attributes
    from checked
)

select * from final
