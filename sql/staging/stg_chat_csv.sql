-- stg_chat_csv: one row per conversation of a flat chat export (CSV or Parquet, column-mapped).
-- Grain: one touchpoint per conversation event, as stg_intercom: started (sub_seq 0),
-- agent_replied (1, at first_reply_at, else created_at + first_reply_seconds), the outcome
-- (2: no reply => missed; closed => resolved at closed_at; open => unresolved at updated_at,
-- else at the last known time) and rated (3); or one reject row per unusable conversation.
-- Without a state column a conversation with closed_at is closed. record_version is
-- updated_at, else the latest time the record carries (a later export of it has more).
-- Time column: ts (naive UTC); text without an offset is read in _load_context.time_zone.
-- Parameters: _load_context (source, time_zone, channel, default 'chat').
with ctx as (
    select * from _load_context
),

fields as (
    select
        i.source_row,
        i.raw,
        nullif(trim(i.conversation_id), '') as conversation_id,
        nullif(trim(i.created_at), '') as created_at,
        nullif(trim(i.updated_at), '') as updated_at,
        nullif(trim(i.first_reply_at), '') as first_reply_at,
        nullif(trim(i.first_reply_seconds), '') as first_reply_seconds,
        nullif(trim(i.closed_at), '') as closed_at,
        nullif(trim(i.rated_at), '') as rated_at,
        nullif(trim(i.rating), '') as rating,
        jm_slug(i.state) as state_text,
        nullif(trim(i.anonymous_id), '') as anonymous_key,
        jm_hash(nullif(trim(i.user_id), '')) as user_id_hash,
        jm_hash(jm_email(i.email)) as email_hash,
        jm_hash(jm_phone(i.phone)) as phone_hash,
        jm_slug(i.topic) as topic,
        jm_redact(nullif(trim(i.agent), '')) as agent,
        nullif(trim(i.page), '') as url,
        ctx.source as source_name,
        ctx.time_zone,
        coalesce(ctx.channel, 'chat') as channel_name
    from _input as i
    cross join ctx
),

parsed as (
    select
        *,
        case
            when state_text in ('closed', 'solved', 'resolved', 'ended', 'done') then 'closed'
            when state_text in ('open', 'snoozed', 'pending', 'active', 'waiting', 'on_hold') then 'open'
        end as state,
        jm_ts(created_at, time_zone) as created_ts,
        jm_ts(updated_at, time_zone) as updated_ts,
        jm_ts(first_reply_at, time_zone) as first_reply_ts,
        jm_ts(closed_at, time_zone) as closed_ts,
        jm_ts(rated_at, time_zone) as rated_ts,
        jm_num(first_reply_seconds) as reply_wait,
        jm_num(rating) as rating_value
    from fields
),

derived as (
    select
        *,
        coalesce(first_reply_ts, case when reply_wait between 0 and 1e9
            then created_ts + to_microseconds(cast(round(reply_wait * 1000000) as bigint)) end) as reply_ts,
        coalesce(state, case when closed_ts is not null then 'closed' end, 'open') = 'closed' as is_closed
    from parsed
),

checked as (
    select
        *,
        coalesce(
            case when conversation_id is null then 'missing conversation id' end,
            regexp_replace(jm_ts_problem(created_at, created_ts), 'timestamp', 'created_at'),
            case when state_text is not null and state is null
                then 'unknown conversation state: ' || left(state_text, 40) end,
            case when anonymous_key is null and user_id_hash is null
                and email_hash is null and phone_hash is null
                then 'no customer identifier' end,
            case when rating is not null and rating_value is null
                then 'rating is not a number: ' || left(rating, 40) end,
            case when first_reply_seconds is not null and reply_wait is null
                then 'first_reply_seconds is not a number: ' || left(first_reply_seconds, 40) end,
            case when not reply_wait between 0 and 1e9
                then 'first_reply_seconds out of range: ' || left(first_reply_seconds, 40) end,
            case when updated_at is not null
                then regexp_replace(jm_ts_problem(updated_at, updated_ts), 'timestamp', 'updated_at') end,
            case when first_reply_at is not null
                then regexp_replace(jm_ts_problem(first_reply_at, first_reply_ts), 'timestamp',
                                    'first_reply_at') end,
            case when closed_at is not null
                then regexp_replace(jm_ts_problem(closed_at, closed_ts), 'timestamp', 'closed_at') end,
            case when rated_at is not null
                then regexp_replace(jm_ts_problem(rated_at, rated_ts), 'timestamp', 'rated_at') end
        ) as reject_reason,
        case
            when reply_ts is null then 'missed'
            when is_closed then 'resolved'
            else 'unresolved'
        end as outcome_name
    from derived
),

conversations as (
    select
        *,
        case when reply_ts is not null
            then coalesce(reply_wait, epoch(reply_ts) - epoch(created_ts)) end as wait_value,
        coalesce(
            case when is_closed then coalesce(closed_ts, updated_ts) else updated_ts end,
            greatest(created_ts, reply_ts)
        ) as outcome_ts,
        case when is_closed and closed_ts is not null then 'closed_at'
            when updated_ts is not null then 'updated_at' end as outcome_field
    from checked
    where reject_reason is null
),

events as (
    select source_row, 0 as sub_seq, 'started' as activity, created_ts as ts,
           'created_at' as event_name, wait_value as wait_seconds,
           cast(null as double) as satisfaction
    from conversations
    union all
    select source_row, 1, 'agent_replied', reply_ts,
           case when first_reply_ts is not null then 'first_reply_at' else 'first_reply_seconds' end,
           wait_value, null
    from conversations
    where reply_ts is not null
    union all
    select source_row, 2, outcome_name, outcome_ts, outcome_field, null, null
    from conversations
    union all
    select source_row, 3, 'rated', coalesce(rated_ts, outcome_ts), 'rating', null, rating_value
    from conversations
    where rating_value is not null
),

final as (
    select
        c.source_row,
        coalesce(e.sub_seq, 0) as sub_seq,
        c.reject_reason,
        case when c.reject_reason is not null then c.raw end as raw,
        md5(c.source_name || '|' || c.conversation_id || '|' || e.activity) as event_id,
        'chat_csv:' || c.conversation_id as record_key,
        coalesce(c.updated_ts, greatest(c.created_ts, c.reply_ts, c.closed_ts, c.rated_ts))
            as record_version,
        c.anonymous_key as anonymous_id,
        c.user_id_hash,
        c.email_hash,
        c.phone_hash,
        e.ts,
        c.channel_name as channel,
        c.channel_name || ':' || e.activity as touchpoint,
        e.event_name,
        c.conversation_id as source_session_id,
        case
            when regexp_matches(c.url, '^[A-Za-z][A-Za-z0-9+.-]*://')
                then coalesce(nullif(
                    regexp_extract(c.url, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*([^?#]*)', 1), ''), '/')
            else nullif(regexp_extract(c.url, '^[^?#]*'), '')
        end as page,
        cast(null as varchar) as device,
        e.wait_seconds,
        cast(null as double) as handle_seconds,
        case when c.reject_reason is null then c.outcome_name end as outcome,
        e.satisfaction,
        c.topic,
        cast(null as double) as revenue,
        case when c.reject_reason is null
            then json_object('state', c.state_text, 'agent', c.agent) end as attributes
    from checked as c
    left join events as e on c.source_row = e.source_row
)

select * from final
