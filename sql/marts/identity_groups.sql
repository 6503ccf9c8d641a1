-- grain: one row per customer_key: how many identifiers of each type its group holds;
--   the largest groups are the first place to look for a missed super-node
-- time column: none
-- parameters: none
with final as (
    select
        customer_key,
        count(*) as identifiers,
        count(*) filter (where identifier_type = 'anonymous_id') as anonymous_ids,
        count(*) filter (where identifier_type = 'user_id_hash') as user_ids,
        count(*) filter (where identifier_type = 'email_hash') as emails,
        count(*) filter (where identifier_type = 'phone_hash') as phones
    from int_identifiers__stitched
    group by customer_key
)

select * from final
