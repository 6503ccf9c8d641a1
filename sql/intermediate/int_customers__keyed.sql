-- grain: one row per customer (customer_number, internal) with its customer_key: the
--   stitched identity group's key, or for touchpoints without identifiers the md5 of
--   'source_session:<source>:<source_session_id>' or of 'event:<event_id>'
-- time column: none
-- parameters: none
with identified as (
    select distinct customer_number, customer_key
    from int_identifiers__stitched
),

unidentified as (
    select distinct customer_number
    from int_touchpoints__stitched
    where customer_number < 0
),

final as (
    select * from identified
    union all
    select
        u.customer_number,
        coalesce(
            md5('source_session:' || t.source || ':' || t.source_session_id),
            md5('event:' || t.event_id)
        ) as customer_key
    from unidentified as u
    inner join touchpoints as t on t.ingest_seq = -u.customer_number
)

select * from final
