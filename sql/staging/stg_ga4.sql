-- stg_ga4: one row per GA4 BigQuery export event (events_YYYYMMDD / events_intraday_YYYYMMDD).
-- Grain: one touchpoint per input record, or one reject row (reject_reason set).
-- Time column: ts (naive UTC) from event_timestamp (microseconds since the epoch, UTC).
-- Parameters: _load_context (source). Reads _input (source_row, raw): one JSON object per
-- event, from NDJSON (BigQuery writes INT64 as JSON strings and omits nulls) or from a
-- Parquet row turned into JSON by the adapter (INT64 as numbers, nulls written).
-- GA4 has no event id: the key is (user_pseudo_id, event_timestamp, event_name,
-- ga_session_id, event_bundle_sequence_id, batch_event_index, page_location), so exact
-- duplicate rows (a re-exported day, daily + intraday tables) collapse to one record.
-- Page query strings and fragments are dropped (they can carry emails and tokens).
-- Channel comes from platform (IOS/ANDROID -> app, else web), not from the source config.
with ctx as (
    select * from _load_context
),

-- one parse per record: scalars as text (INT64 strings and numbers alike), the parameter
-- list typed, small nested records as JSON fragments so their types can be checked
docs as (
    select
        i.source_row,
        i.raw,
        regexp_matches(i.raw, '^\s*[{]') as is_object,
        from_json(
            i.raw,
            '{"event_timestamp": "VARCHAR", "event_name": "VARCHAR", "user_pseudo_id": "VARCHAR",
              "user_id": "VARCHAR", "platform": "VARCHAR",
              "event_params": [{"key": "VARCHAR",
                                "value": {"string_value": "VARCHAR", "int_value": "VARCHAR"}}],
              "items": ["JSON"], "device": "JSON", "geo": "JSON", "traffic_source": "JSON",
              "ecommerce": "JSON", "event_value_in_usd": "VARCHAR",
              "event_bundle_sequence_id": "VARCHAR", "batch_event_index": "VARCHAR"}'
        ) as j
    from _input as i
),

fields as (
    select
        source_row,
        raw,
        is_object,
        j.event_timestamp as ts_text,
        trim(j.event_name) as event_name_text,
        nullif(trim(j.user_pseudo_id), '') as pseudo_id,
        nullif(trim(j.user_id), '') as user_id_text,
        -- a list or object where text belongs arrives as its JSON text: look closer (rare)
        case when regexp_matches(j.event_name, '^\s*[{\[]')
            then json_type(raw, '$.event_name') end as event_name_type,
        case when regexp_matches(j.user_pseudo_id, '^\s*[{\[]')
            then json_type(raw, '$.user_pseudo_id') end as pseudo_id_type,
        case when regexp_matches(j.user_id, '^\s*[{\[]')
            then json_type(raw, '$.user_id') end as user_id_type,
        upper(trim(j.platform)) as platform,
        -- a list field that is something else comes out NULL: tell that from missing (rare)
        case when j.event_params is null then json_type(raw, '$.event_params') end as params_type,
        case when j.items is null then json_type(raw, '$.items') end as items_type,
        j.event_params as params,
        len(j.items) as item_count,
        json_type(j.device) as device_type,
        json_type(j.geo) as geo_type,
        json_type(j.traffic_source) as traffic_type,
        json_type(j.ecommerce) as ecommerce_type,
        json_extract_string(j.device, '$.category') as device_category,
        json_extract_string(j.device, '$.web_info.browser') as browser,
        json_extract_string(j.geo, '$.country') as country,
        json_extract_string(j.traffic_source, '$.source') as traffic_source,
        json_extract_string(j.traffic_source, '$.medium') as traffic_medium,
        json_extract_string(j.ecommerce, '$.transaction_id') as transaction_id,
        nullif(trim(json_extract_string(j.ecommerce, '$.purchase_revenue')), '') as purchase_revenue_text,
        nullif(trim(j.event_value_in_usd), '') as event_value_text,
        nullif(trim(j.event_bundle_sequence_id), '') as bundle_text,
        nullif(trim(j.batch_event_index), '') as batch_index_text
    from docs
),

params as (
    select
        * exclude (params),
        nullif(trim(coalesce(
            list_filter(params, lambda p: p.key = 'ga_session_id')[1].value.int_value,
            list_filter(params, lambda p: p.key = 'ga_session_id')[1].value.string_value
        )), '') as session_id_text,
        nullif(trim(
            list_filter(params, lambda p: p.key = 'ga_session_number')[1].value.int_value
        ), '') as session_number_text,
        list_filter(params, lambda p: p.key = 'page_location')[1].value.string_value as page_location,
        list_filter(params, lambda p: p.key = 'page_title')[1].value.string_value as page_title,
        list_filter(params, lambda p: p.key = 'firebase_screen')[1].value.string_value as app_screen
    from fields
),

parsed as (
    select
        p.*,
        jm_ts(p.ts_text, 'UTC') as ts_utc,
        jm_slug(p.event_name_text) as activity,
        jm_hash(p.user_id_text) as user_id_hash,
        case when p.platform in ('IOS', 'ANDROID') then 'app' else 'web' end as channel_name,
        -- the path only: no scheme, host, query string or fragment; emails in it masked
        regexp_replace(
            coalesce(nullif(split_part(split_part(regexp_replace(
                trim(p.page_location), '^([A-Za-z][A-Za-z0-9+.-]*:)?//[^/?#]*', ''
            ), '?', 1), '#', 1), ''), '/'),
            '[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '<email>', 'g'
        ) as page_path,
        jm_num(p.purchase_revenue_text) as purchase_revenue,
        jm_num(p.event_value_text) as event_value,
        -- integers as digits only ('1.5' is not an id), within bigint
        case when regexp_full_match(p.session_id_text, '-?[0-9]+')
            then try_cast(p.session_id_text as bigint) end as session_id,
        case when regexp_full_match(p.session_number_text, '-?[0-9]+')
            then try_cast(p.session_number_text as bigint) end as session_number,
        case when regexp_full_match(p.bundle_text, '-?[0-9]+')
            then try_cast(p.bundle_text as bigint) end as bundle_id,
        case when regexp_full_match(p.batch_index_text, '-?[0-9]+')
            then try_cast(p.batch_index_text as bigint) end as batch_index,
        ctx.source as source_name
    from params as p
    cross join ctx
),

checked as (
    select
        *,
        case
            when not is_object then 'record is not a JSON object'
            else coalesce(
                jm_ts_problem(ts_text, ts_utc),
                case when event_name_type in ('OBJECT', 'ARRAY')
                    then 'event_name is not a string' end,
                case when activity is null then 'missing event name' end,
                case when pseudo_id_type in ('OBJECT', 'ARRAY')
                    then 'user_pseudo_id is not a string' end,
                case when user_id_type in ('OBJECT', 'ARRAY')
                    then 'user_id is not a string' end,
                case when pseudo_id is null and user_id_hash is null
                    then 'no customer identifier' end,
                case when params_type not in ('ARRAY', 'NULL') then 'event_params is not a list' end,
                case when items_type not in ('ARRAY', 'NULL') then 'items is not a list' end,
                case when device_type not in ('OBJECT', 'NULL') then 'device is not an object' end,
                case when geo_type not in ('OBJECT', 'NULL') then 'geo is not an object' end,
                case when traffic_type not in ('OBJECT', 'NULL')
                    then 'traffic_source is not an object' end,
                case when ecommerce_type not in ('OBJECT', 'NULL') then 'ecommerce is not an object' end,
                case when session_id_text is not null and session_id is null
                    then 'ga_session_id is not an integer: ' || left(session_id_text, 40) end,
                case when session_number_text is not null and session_number is null
                    then 'ga_session_number is not an integer: ' || left(session_number_text, 40) end,
                case when bundle_text is not null and bundle_id is null
                    then 'event_bundle_sequence_id is not an integer: ' || left(bundle_text, 40) end,
                case when batch_index_text is not null and batch_index is null
                    then 'batch_event_index is not an integer: ' || left(batch_index_text, 40) end,
                case when purchase_revenue_text is not null and purchase_revenue is null
                    then 'ecommerce.purchase_revenue is not a number: '
                        || left(purchase_revenue_text, 40) end,
                case when event_value_text is not null and event_value is null
                    then 'event_value_in_usd is not a number: ' || left(event_value_text, 40) end
            )
        end as reject_reason
    from parsed
),

keyed as (
    select
        *,
        md5(concat_ws(
            '|', source_name, coalesce(pseudo_id, ''), coalesce(cast(epoch_us(ts_utc) as varchar), ''),
            coalesce(event_name_text, ''),
            coalesce(cast(session_id as varchar), ''),
            coalesce(cast(bundle_id as varchar), ''),
            coalesce(cast(batch_index as varchar), ''),
            coalesce(page_location, '')
        )) as native_key
    from checked
),

final as (
    select
        source_row,
        0 as sub_seq,
        reject_reason,
        -- a rejected record keeps its text without the user id and URL query strings
        case when reject_reason is not null then regexp_replace(
            case when is_object and user_id_text is not null
                then cast(json_merge_patch(raw, '{"user_id": "<redacted>"}') as varchar)
                else raw end,
            '((https?:)?//[^"?#\s]*)[?#][^"\s]*', '\1', 'g'
        ) end as raw,
        native_key as event_id,
        native_key as record_key,
        cast(ts_utc as date) as key_day,  -- the key includes the time: it fixes the day
        cast(null as timestamp) as record_version,
        pseudo_id as anonymous_id,
        user_id_hash,
        cast(null as varchar) as email_hash,
        cast(null as varchar) as phone_hash,
        ts_utc as ts,
        channel_name as channel,
        -- page_view keeps exactly 'web:page_view': the loader names it by web.page_rules
        channel_name || ':' || activity as touchpoint,
        event_name_text as event_name,
        case when pseudo_id is not null and session_id is not null
            then pseudo_id || '.' || cast(session_id as varchar)
        end as source_session_id,
        case
            when page_location is not null and trim(page_location) <> '' then page_path
            else nullif(trim(app_screen), '')
        end as page,
        jm_slug(device_category) as device,
        cast(null as double) as wait_seconds,
        cast(null as double) as handle_seconds,
        case when activity in ('purchase', 'in_app_purchase') then 'purchase' end as outcome,
        cast(null as double) as satisfaction,
        cast(null as varchar) as topic,
        coalesce(
            purchase_revenue,
            case when activity in ('purchase', 'in_app_purchase') then event_value end
        ) as revenue,
        json_object(
            'ga_session_number', session_number,
            'page_title', jm_redact(page_title),
            'traffic_source', traffic_source,
            'traffic_medium', traffic_medium,
            'transaction_id', transaction_id,
            'items', item_count,
            'browser', browser,
            'country', country,
            'platform', platform,
            'event_bundle_sequence_id', bundle_id,
            'batch_event_index', batch_index
        ) as attributes
    from keyed
)

select * from final
