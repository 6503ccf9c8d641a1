-- grain: one row per pair of identifiers seen together on one source row, per source and
--   row kind (a touchpoint's name such as 'web:login', or 'identity_record' for a CRM row)
-- time column: first_seen (null for identity records, which carry no time)
-- parameters: none
with touchpoint_rows as (
    select
        source,
        touchpoint as row_kind,
        anonymous_id,
        user_id_hash,
        email_hash,
        phone_hash,
        min(ts) as first_seen,
        count(*) as row_count
    from touchpoints
    where
        (case when anonymous_id is null then 0 else 1 end)
        + (case when user_id_hash is null then 0 else 1 end)
        + (case when email_hash is null then 0 else 1 end)
        + (case when phone_hash is null then 0 else 1 end) >= 2
    group by source, touchpoint, anonymous_id, user_id_hash, email_hash, phone_hash
),

identity_rows as (
    select
        source,
        'identity_record' as row_kind,
        cast(null as varchar) as anonymous_id,
        user_id_hash,
        email_hash,
        phone_hash,
        cast(null as timestamp) as first_seen,
        count(*) as row_count
    from identities
    group by source, user_id_hash, email_hash, phone_hash
),

identified_rows as (
    select * from touchpoint_rows
    union all
    select * from identity_rows
),

pairs as (
    select 'anonymous_id' as identifier_type_a, anonymous_id as identifier_a,
        'user_id_hash' as identifier_type_b, user_id_hash as identifier_b,
        source, row_kind, first_seen, row_count
    from identified_rows where anonymous_id is not null and user_id_hash is not null
    union all
    select 'anonymous_id', anonymous_id, 'email_hash', email_hash,
        source, row_kind, first_seen, row_count
    from identified_rows where anonymous_id is not null and email_hash is not null
    union all
    select 'anonymous_id', anonymous_id, 'phone_hash', phone_hash,
        source, row_kind, first_seen, row_count
    from identified_rows where anonymous_id is not null and phone_hash is not null
    union all
    select 'user_id_hash', user_id_hash, 'email_hash', email_hash,
        source, row_kind, first_seen, row_count
    from identified_rows where user_id_hash is not null and email_hash is not null
    union all
    select 'user_id_hash', user_id_hash, 'phone_hash', phone_hash,
        source, row_kind, first_seen, row_count
    from identified_rows where user_id_hash is not null and phone_hash is not null
    union all
    select 'email_hash', email_hash, 'phone_hash', phone_hash,
        source, row_kind, first_seen, row_count
    from identified_rows where email_hash is not null and phone_hash is not null
),

final as (
    select
        identifier_type_a,
        identifier_a,
        identifier_type_b,
        identifier_b,
        source,
        row_kind,
        min(first_seen) as first_seen,
        cast(sum(row_count) as bigint) as row_count
    from pairs
    group by identifier_type_a, identifier_a, identifier_type_b, identifier_b, source, row_kind
)

select * from final
