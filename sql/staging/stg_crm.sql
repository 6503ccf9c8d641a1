-- stg_crm: one row per record of a CRM / identity table (CSV or Parquet, column-mapped).
-- Grain: one identity link (hashed user id, email, phone) per input record, or a reject.
-- No time column. Parameters: none beyond the privacy macros (jm_hash, jm_email, jm_phone).
with hashed as (
    select
        source_row,
        raw,
        jm_hash(nullif(trim(user_id), '')) as user_id_hash,
        jm_hash(jm_email(email)) as email_hash,
        jm_hash(jm_phone(phone)) as phone_hash
    from _input
),

final as (
    select
        source_row,
        case
            when (user_id_hash is not null)::int + (email_hash is not null)::int
                + (phone_hash is not null)::int < 2
                then 'fewer than two identifiers: nothing to link'
        end as reject_reason,
        raw,
        user_id_hash,
        email_hash,
        phone_hash
    from hashed
)

select * from final
