-- grain: one row per super-node: an identifier seen with more distinct customers (or
--   devices) than cfg_identity allows, so it was not used for linking
-- time column: none
-- parameters: none (cfg_identity is applied in int_identifiers__profiled)
with final as (
    select
        identifier_type,
        identifier,
        anonymous_id_partners,
        user_id_partners,
        email_partners,
        phone_partners
    from int_identifiers__profiled
    where is_super_node
)

select * from final
