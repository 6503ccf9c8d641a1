-- grain: one row per directed link (node_id -> neighbour_id) between two identifiers that
--   were seen together, both directions, leaving out every link that touches a super-node
-- time column: none
-- parameters: none (super-nodes are flagged in int_identifiers__profiled)
with usable as (
    select node_id, identifier_type, identifier
    from int_identifiers__profiled
    where not is_super_node
),

linked as (
    select distinct a.node_id as node_a, b.node_id as node_b
    from int_identifier_pairs__extracted as p
    inner join usable as a
        on a.identifier_type = p.identifier_type_a and a.identifier = p.identifier_a
    inner join usable as b
        on b.identifier_type = p.identifier_type_b and b.identifier = p.identifier_b
),

final as (
    select node_a as node_id, node_b as neighbour_id from linked
    union all
    select node_b, node_a from linked
)

select * from final
