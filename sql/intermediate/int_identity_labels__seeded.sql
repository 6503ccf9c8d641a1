-- grain: one row per identifier that has at least one usable link, labelled with its own
--   node_id: the starting point of label propagation (identity.py iterates
--   steps/int_identity_labels__propagated.sql on it until no label changes)
-- time column: none
-- parameters: none
with final as (
    select distinct node_id, node_id as label
    from int_identity_edges__filtered
)

select * from final
