-- grain: one row per linked identifier (node_id) with its label after one more round of
--   propagation; run repeatedly by identity.py over the previous round's int_identity_labels
--   until no row has changed. A label is always the smallest node_id known to be connected.
-- time column: none
-- parameters: none
with neighbour_labels as (
    select e.node_id, min(l.label) as label
    from int_identity_edges__filtered as e
    inner join int_identity_labels as l on l.node_id = e.neighbour_id
    group by e.node_id
),

hooked as (
    select l.node_id, l.label as old_label, least(l.label, coalesce(n.label, l.label)) as label
    from int_identity_labels as l
    left join neighbour_labels as n on n.node_id = l.node_id
),

-- pointer jumping: adopt the label of one's label, so long chains converge in few rounds
jumped as (
    select h.node_id, h.old_label, least(h.label, coalesce(p.label, h.label)) as label
    from hooked as h
    left join hooked as p on p.node_id = h.label
),

final as (
    select node_id, label, label <> old_label as changed
    from jumped
)

select * from final
