-- stg_intercom: Intercom conversation objects (API 2.x, NDJSON), one conversation per record.
-- Grain: one touchpoint per conversation event, ordered by sub_seq: started (0, always),
-- agent_replied (1, at the first admin reply), the outcome (2) and rated (3, when rated);
-- or one reject row per unusable conversation.
-- Outcome, the same on every row of a conversation: never replied by an admin => missed;
-- else closed => resolved (at the last close); else (open / snoozed at export) => unresolved
-- (at updated_at). A closed conversation's outcome row is at its last close, an open one's
-- at updated_at. wait_seconds (started, agent_replied): time to the first admin reply.
-- Time column: ts (naive UTC, from Unix seconds). Parameters: _load_context (source,
-- time_zone for timestamp text without an offset, channel, default 'chat').
with ctx as (
    select * from _load_context
),

fields as (
    select
        i.source_row,
        i.raw,
        json_type(i.raw) as doc_type,
        json_type(i.raw, '$.id') as id_type,
        nullif(trim(json_extract_string(i.raw, '$.id')), '') as conversation_id,
        nullif(trim(json_extract_string(i.raw, '$.created_at')), '') as created_at,
        nullif(trim(json_extract_string(i.raw, '$.updated_at')), '') as updated_at,
        jm_slug(json_extract_string(i.raw, '$.state')) as state,
        -- API 2.x nests lists ({type: contact.list, contacts: [...]}); flat lists also occur
        case when json_type(i.raw, '$.contacts') = 'ARRAY'
            then json_extract(i.raw, '$.contacts[0]')
            else json_extract(i.raw, '$.contacts.contacts[0]') end as contact,
        case when json_type(i.raw, '$.tags') = 'ARRAY'
            then json_extract_string(i.raw, '$.tags[*].name')
            else json_extract_string(i.raw, '$.tags.tags[*].name') end as tag_names,
        -- an admin- or bot-started conversation's author is the agent, not the customer
        case when lower(coalesce(json_extract_string(i.raw, '$.source.author.type'), ''))
            not in ('admin', 'bot', 'team')
            then json_extract_string(i.raw, '$.source.author.email') end as author_email,
        nullif(trim(json_extract_string(i.raw, '$.source.url')), '') as url,
        json_extract_string(i.raw, '$.source.delivered_as') as delivered_as,
        nullif(trim(json_extract_string(i.raw, '$.statistics.time_to_admin_reply')), '')
            as time_to_admin_reply,
        nullif(trim(json_extract_string(i.raw, '$.statistics.first_admin_reply_at')), '')
            as first_reply_at,
        nullif(trim(coalesce(json_extract_string(i.raw, '$.statistics.last_close_at'),
                             json_extract_string(i.raw, '$.statistics.first_close_at'))), '')
            as closed_at,
        nullif(trim(json_extract_string(i.raw, '$.conversation_rating.rating')), '') as rating,
        nullif(trim(json_extract_string(i.raw, '$.conversation_rating.created_at')), '') as rated_at,
        json_extract(i.raw, '$.statistics.count_reopens') as count_reopens,
        json_extract(i.raw, '$.admin_assignee_id') as admin_assignee_id,
        ctx.source as source_name,
        ctx.time_zone,
        coalesce(ctx.channel, 'chat') as channel_name
    from _input as i
    cross join ctx
),

parsed as (
    select
        *,
        nullif(trim(json_extract_string(contact, '$.id')), '') as anonymous_key,
        jm_hash(nullif(trim(json_extract_string(contact, '$.external_id')), '')) as user_id_hash,
        jm_hash(jm_email(author_email)) as email_hash,
        jm_ts(created_at, time_zone) as created_ts,
        jm_ts(updated_at, time_zone) as updated_ts,
        jm_ts(first_reply_at, time_zone) as reply_ts,
        jm_ts(closed_at, time_zone) as closed_ts,
        jm_ts(rated_at, time_zone) as rated_ts,
        jm_num(time_to_admin_reply) as reply_wait,
        jm_num(rating) as rating_value,
        -- without a state, a conversation with a close time counts as closed
        coalesce(state, case when closed_at is not null then 'closed' end, 'open') = 'closed' as is_closed
    from fields
),

checked as (
    select
        *,
        coalesce(
            case when doc_type <> 'OBJECT' then 'not a JSON object' end,
            case when id_type in ('OBJECT', 'ARRAY') then 'conversation id is not a string' end,
            case when conversation_id is null then 'missing conversation id' end,
            regexp_replace(jm_ts_problem(created_at, created_ts), 'timestamp', 'created_at'),
            case when state not in ('open', 'closed', 'snoozed')
                then 'unknown conversation state: ' || left(state, 40) end,
            case when anonymous_key is null and user_id_hash is null and email_hash is null
                then 'no customer identifier' end,
            case when rating is not null and rating_value is null
                then 'rating is not a number: ' || left(rating, 40) end,
            case when time_to_admin_reply is not null and reply_wait is null
                then 'time_to_admin_reply is not a number: ' || left(time_to_admin_reply, 40) end,
            case when updated_at is not null
                then regexp_replace(jm_ts_problem(updated_at, updated_ts), 'timestamp', 'updated_at') end,
            case when first_reply_at is not null
                then regexp_replace(jm_ts_problem(first_reply_at, reply_ts), 'timestamp',
                                    'first_admin_reply_at') end,
            case when closed_at is not null
                then regexp_replace(jm_ts_problem(closed_at, closed_ts), 'timestamp', 'last_close_at') end,
            case when rated_at is not null
                then regexp_replace(jm_ts_problem(rated_at, rated_ts), 'timestamp', 'rating created_at') end
        ) as reject_reason,
        case
            when reply_ts is null then 'missed'
            when is_closed then 'resolved'
            else 'unresolved'
        end as outcome_name
    from parsed
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
        case when is_closed and closed_ts is not null then 'statistics.last_close_at'
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
    select source_row, 1, 'agent_replied', reply_ts, 'statistics.first_admin_reply_at', wait_value, null
    from conversations
    where reply_ts is not null
    union all
    select source_row, 2, outcome_name, outcome_ts, outcome_field, null, null
    from conversations
    union all
    select source_row, 3, 'rated', coalesce(rated_ts, outcome_ts), 'conversation_rating', null, rating_value
    from conversations
    where rating_value is not null
),

final as (
    select
        c.source_row,
        coalesce(e.sub_seq, 0) as sub_seq,
        c.reject_reason,
        -- rejects keep the record minus the author's name and email and the rating remark
        case when c.reject_reason is not null then jm_redact(case when c.doc_type = 'OBJECT'
            then cast(json_merge_patch(json_merge_patch(c.raw,
                case when json_type(c.raw, '$.source.author') = 'OBJECT'
                    then '{"source": {"author": {"name": null, "email": null}}}' else '{}' end),
                case when json_type(c.raw, '$.conversation_rating') = 'OBJECT'
                    then '{"conversation_rating": {"remark": null}}' else '{}' end) as varchar)
            else c.raw end) end as raw,
        md5(c.source_name || '|' || c.conversation_id || '|' || e.activity) as event_id,
        'intercom:' || c.conversation_id as record_key,
        coalesce(c.updated_ts, greatest(c.created_ts, c.reply_ts, c.closed_ts, c.rated_ts))
            as record_version,
        c.anonymous_key as anonymous_id,
        c.user_id_hash,
        c.email_hash,
        cast(null as varchar) as phone_hash,
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
        jm_slug(c.tag_names[1]) as topic,
        cast(null as double) as revenue,
        case when c.reject_reason is null then json_object(
            'state', c.state,
            'count_reopens', c.count_reopens,
            'admin_assignee_id', c.admin_assignee_id,
            'tags', to_json(c.tag_names),
            'delivered_as', c.delivered_as
        ) end as attributes
    from checked as c
    left join events as e on c.source_row = e.source_row
)

select * from final
