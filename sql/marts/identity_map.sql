-- grain: one row per identifier (identifier_type, identifier) and the customer it belongs to
-- time column: none
-- parameters: none (cfg_identity is applied in int_identifiers__profiled)
with final as (
    select identifier_type, identifier, customer_key, is_super_node
    from int_identifiers__stitched
)

select * from final
