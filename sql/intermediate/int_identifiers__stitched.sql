-- grain: one row per identifier, with the customer_key of its connected group: the md5 of
--   the group's smallest identifier ('<identifier_type>:<identifier>'), so the key does
--   not depend on load order. Super-nodes and unlinked identifiers form groups of one.
--   customer_number (the smallest identifier's node_id) is an internal bigint twin of the
--   key, cheap to sort and join on; it changes when new identifiers arrive, so marts omit it.
-- time column: none
-- parameters: none (reads int_identity_labels, written by identity.py's propagation loop)
with labelled as (
    select p.*, coalesce(l.label, p.node_id) as label
    from int_identifiers__profiled as p
    left join int_identity_labels as l on l.node_id = p.node_id
),

final as (
    select
        labelled.identifier_type,
        labelled.identifier,
        md5(root.identifier_type || ':' || root.identifier) as customer_key,
        labelled.label as customer_number,
        labelled.is_super_node,
        labelled.node_id
    from labelled
    inner join int_identifiers__profiled as root on root.node_id = labelled.label
)

select * from final
