-- stg_connect: Amazon Connect contact records (NDJSON, one contact per line) as touchpoints.
-- Grain: one row per step of one contact (leg), or one reject row per unusable record.
--   sub_seq 0 callback, 1 queued, 2 abandoned_in_queue, 3 answered, 4 transferred,
--   5 ended / order_placed, 6 ended_in_ivr / unanswered (never queued nor answered),
--   7 started (only while nothing else has happened yet: an early, in-progress copy).
-- Time column: ts (naive UTC). Parameters: _load_context (source, time_zone for offset-less times).
-- A re-sent contact keeps record_key 'connect:<ContactId>' with record_version =
-- LastUpdateTimestamp, so the loader keeps the newest copy. Transfer legs are separate
-- contacts sharing source_session_id = InitialContactId.
with ctx as (
    select * from _load_context
),

fields as (
    select
        source_row,
        raw,
        json_type(raw) as doc_type,
        json_type(raw, '$.ContactId') as contact_id_type,
        nullif(trim(raw ->> '$.ContactId'), '') as contact_id,
        nullif(trim(raw ->> '$.InitialContactId'), '') as initial_contact_id,
        nullif(trim(raw ->> '$.PreviousContactId'), '') as previous_contact_id,
        nullif(trim(raw ->> '$.NextContactId'), '') as next_contact_id,
        coalesce(upper(trim(raw ->> '$.Channel')), 'VOICE') as contact_channel,
        upper(trim(raw ->> '$.InitiationMethod')) as initiation_method,
        raw ->> '$.InitiationTimestamp' as initiated_text,
        nullif(trim(raw ->> '$.DisconnectTimestamp'), '') as disconnected_text,
        nullif(trim(raw ->> '$.LastUpdateTimestamp'), '') as updated_text,
        nullif(trim(raw ->> '$.CustomerEndpoint.Address'), '') as customer_address,
        raw ->> '$.Queue.Name' as queue_name,
        nullif(trim(raw ->> '$.Queue.EnqueueTimestamp'), '') as enqueued_text,
        nullif(trim(raw ->> '$.Queue.DequeueTimestamp'), '') as dequeued_text,
        nullif(trim(raw ->> '$.Queue.Duration'), '') as queue_duration_text,
        raw ->> '$.Agent.Username' as agent_username,
        nullif(trim(raw ->> '$.Agent.ConnectedToAgentTimestamp'), '') as agent_connected_text,
        nullif(trim(raw ->> '$.Agent.AgentInteractionDuration'), '') as interaction_text,
        jm_num(raw ->> '$.Agent.CustomerHoldDuration') as hold_seconds,
        jm_num(raw ->> '$.Agent.AfterContactWorkDuration') as after_contact_work_seconds,
        raw ->> '$.DisconnectReason' as disconnect_reason,
        try_cast(json_extract(raw, '$.Attributes') as map(varchar, varchar)) as contact_attributes
    from _input
),

parsed as (
    select
        f.*,
        ctx.source as source_name,
        jm_ts(f.initiated_text, ctx.time_zone) as initiated_at,
        jm_ts(f.disconnected_text, ctx.time_zone) as disconnected_at,
        jm_ts(f.updated_text, ctx.time_zone) as updated_at,
        jm_ts(f.enqueued_text, ctx.time_zone) as enqueued_at,
        jm_ts(f.dequeued_text, ctx.time_zone) as dequeued_at,
        jm_ts(f.agent_connected_text, ctx.time_zone) as agent_connected_at,
        jm_num(f.queue_duration_text) as queue_duration,
        jm_num(f.interaction_text) as interaction_seconds,
        jm_hash(jm_phone(f.customer_address)) as phone_hash,
        jm_hash(nullif(trim(f.contact_attributes['customer_id']), '')) as user_id_hash,
        jm_hash(jm_email(f.contact_attributes['email'])) as email_hash,
        jm_slug(f.contact_attributes['contact_reason']) as topic,
        jm_slug(f.contact_attributes['outcome']) as attribute_outcome,
        coalesce(
            jm_num(f.contact_attributes['order_value']),
            jm_num(f.contact_attributes['revenue'])
        ) as order_value,
        case f.contact_channel when 'VOICE' then 'call' else coalesce(jm_slug(f.contact_channel), 'call') end
            as channel,
        -- contact attributes with person-naming keys flagged and phone-shaped values masked
        list_transform(map_entries(f.contact_attributes), lambda e: {
            'key': e.key,
            'value': case when regexp_full_match(trim(e.value), '\+?\(?\d[\d\s().-]{8,}\d')
                then '<phone>' else jm_redact(e.value) end,
            'personal': regexp_matches(
                lower(e.key),
                'customer_id|user_?id|e_?mail|phone|mobile|name|addr|street|post_?code|zip|birth|dob'
                || '|ssn|credit_?card|card_?(number|no)|iban|passw|secret|token|caller|(^|_)ani$'
            )
        }) as attribute_entries
    from fields as f
    cross join ctx
),

checked as (
    select
        *,
        coalesce(
            case when doc_type <> 'OBJECT' then 'not a JSON object' end,
            case when contact_id_type in ('OBJECT', 'ARRAY') then 'ContactId is not a string' end,
            case when contact_id is null then 'missing ContactId' end,
            regexp_replace(jm_ts_problem(initiated_text, initiated_at), 'timestamp', 'InitiationTimestamp'),
            case
                when phone_hash is null and user_id_hash is null and email_hash is null
                    then 'no customer identifier'
            end,
            -- a supervisor listening in is a leg of its own, not another contact by the customer
            case when initiation_method = 'MONITOR' then 'InitiationMethod MONITOR is not a customer contact' end,
            case when queue_duration_text is not null and queue_duration is null
                then 'Queue.Duration is not a number: ' || left(queue_duration_text, 40) end,
            case when interaction_text is not null and interaction_seconds is null
                then 'Agent.AgentInteractionDuration is not a number: ' || left(interaction_text, 40) end,
            case when enqueued_text is not null then regexp_replace(
                jm_ts_problem(enqueued_text, enqueued_at), 'timestamp', 'Queue.EnqueueTimestamp') end,
            case when dequeued_text is not null then regexp_replace(
                jm_ts_problem(dequeued_text, dequeued_at), 'timestamp', 'Queue.DequeueTimestamp') end,
            case when agent_connected_text is not null then regexp_replace(
                jm_ts_problem(agent_connected_text, agent_connected_at), 'timestamp',
                'Agent.ConnectedToAgentTimestamp') end,
            case when disconnected_text is not null then regexp_replace(
                jm_ts_problem(disconnected_text, disconnected_at), 'timestamp', 'DisconnectTimestamp') end,
            case when updated_text is not null then regexp_replace(
                jm_ts_problem(updated_text, updated_at), 'timestamp', 'LastUpdateTimestamp') end
        ) as reject_reason
    from parsed
),

classified as (
    select
        *,
        enqueued_at is not null as was_queued,
        agent_connected_at is not null as was_answered,
        next_contact_id is not null as was_transferred,
        coalesce(queue_duration, epoch(dequeued_at) - epoch(enqueued_at)) as wait_seconds,
        case
            when initiation_method in ('OUTBOUND', 'EXTERNAL_OUTBOUND')
                or (initiation_method = 'API' and contact_channel = 'VOICE') then 'unanswered'
            else 'ended_in_ivr'
        end as unreached_activity,
        map_from_entries(list_transform(
            list_filter(attribute_entries, lambda e: not e.personal and e.key not in ('contact_reason', 'outcome')),
            lambda e: {'key': e.key, 'value': e.value}
        )) as other_attributes
    from checked
    where reject_reason is null
),

steps as (
    select
        *,
        list_filter([
            {'sub_seq': 0, 'activity': 'callback', 'outcome': null::varchar,
             'ts': case when initiation_method = 'CALLBACK' then initiated_at end,
             'wait': null::double, 'handle': null::double, 'revenue': null::double},
            {'sub_seq': 1, 'activity': 'queued', 'outcome': null,
             'ts': enqueued_at, 'wait': wait_seconds, 'handle': null, 'revenue': null},
            {'sub_seq': 2, 'activity': 'abandoned_in_queue', 'outcome': 'abandoned',
             'ts': case when was_queued and not was_answered and not was_transferred
                 and disconnected_at is not null then coalesce(dequeued_at, disconnected_at) end,
             'wait': wait_seconds, 'handle': null, 'revenue': null},
            {'sub_seq': 3, 'activity': 'answered', 'outcome': null,
             'ts': agent_connected_at, 'wait': wait_seconds, 'handle': interaction_seconds, 'revenue': null},
            {'sub_seq': 4, 'activity': 'transferred', 'outcome': 'transferred',
             'ts': case when was_transferred then disconnected_at end,
             'wait': wait_seconds, 'handle': interaction_seconds, 'revenue': null},
            {'sub_seq': 5,
             'activity': case when attribute_outcome = 'order_placed' then 'order_placed' else 'ended' end,
             'outcome': attribute_outcome,
             'ts': case when was_answered and not was_transferred then disconnected_at end,
             'wait': wait_seconds, 'handle': interaction_seconds,
             'revenue': case when attribute_outcome = 'order_placed' then order_value end},
            {'sub_seq': 6,
             'activity': case when attribute_outcome = 'order_placed' then 'order_placed'
                 else unreached_activity end,
             'outcome': coalesce(attribute_outcome, jm_slug(disconnect_reason)),
             'ts': case when not was_queued and not was_answered and not was_transferred
                 then disconnected_at end,
             'wait': null, 'handle': null,
             'revenue': case when attribute_outcome = 'order_placed' then order_value end}
        ], lambda s: s.ts is not null) as happened
    from classified
),

expanded as (
    select
        *,
        unnest(
            case
                when len(happened) > 0 then happened
                else [{'sub_seq': 7, 'activity': 'started', 'outcome': null::varchar, 'ts': initiated_at,
                       'wait': null::double, 'handle': null::double, 'revenue': null::double}]
            end
        ) as step
    from steps
),

touchpoints as (
    select
        source_row,
        step.sub_seq as sub_seq,
        cast(null as varchar) as reject_reason,
        cast(null as varchar) as raw,
        md5(source_name || '|' || contact_id || '|' || step.activity) as event_id,
        'connect:' || contact_id as record_key,
        updated_at as record_version,
        cast(null as varchar) as anonymous_id,
        user_id_hash,
        email_hash,
        phone_hash,
        step.ts as ts,
        channel,
        channel || ':' || step.activity as touchpoint,
        concat_ws(' ', contact_channel, initiation_method) as event_name,
        coalesce(initial_contact_id, contact_id) as source_session_id,
        cast(null as varchar) as page,
        case when contact_channel = 'VOICE' then 'phone' end as device,
        step.wait as wait_seconds,
        step.handle as handle_seconds,
        step.outcome as outcome,
        cast(null as double) as satisfaction,
        topic,
        step.revenue as revenue,
        json_object(
            'contact_id', contact_id,
            'initiation_method', initiation_method,
            'disconnect_reason', disconnect_reason,
            'queue', queue_name,
            'agent', agent_username,
            'hold_seconds', hold_seconds,
            'after_contact_work_seconds', after_contact_work_seconds,
            'previous_contact_id', previous_contact_id,
            'next_contact_id', next_contact_id,
            'contact_attributes', to_json(other_attributes)
        ) as attributes
    from expanded
),

rejects as (
    select
        source_row,
        0 as sub_seq,
        reject_reason,
        -- the caller's number and personal attributes never reach rejected_rows, in any format
        replace(
            case
                when contact_attributes is null then raw
                else cast(json_merge_patch(raw, json_object('Attributes', map_from_entries(list_transform(
                    attribute_entries,
                    lambda e: {'key': e.key, 'value': case when e.personal then '<redacted>' else e.value end}
                )))) as varchar)
            end,
            coalesce(cast(to_json(raw ->> '$.CustomerEndpoint.Address') as varchar), chr(0)), '"<phone>"'
        ) as raw,
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
