-- grain: one row per touchpoint that is a journey step (touchpoints with the role
--   'excluded' are left out): only what sessions need, keyed by ingest_seq; the other
--   columns are joined back in session_touchpoints
-- time column: ts
-- parameters: cfg_touchpoint_roles (conversion, cart, checkout, excluded)
-- customer_number: the stitched group of the row's identifiers (all usable identifiers on
--   a row share one); if all are super-nodes, the first of user id, email, phone, device.
--   A row without identifiers belongs to its source session, else stands alone, numbered
--   minus the group's first ingest_seq (see int_customers__keyed).
with roles as (
    select
        touchpoint,
        bool_or(role = 'conversion') as is_conversion,
        bool_or(role = 'cart') as is_cart,
        bool_or(role = 'checkout') as is_checkout,
        bool_or(role = 'excluded') as is_excluded
    from cfg_touchpoint_roles
    group by touchpoint
),

-- each row looks its identifiers up directly (four single-key joins on small tables):
-- cheaper than grouping the distinct identifier sets and joining back on four nullable
-- columns with is not distinct from
identified as (
    select
        t.ingest_seq, t.ts, t.channel, t.touchpoint, t.source_session_id,
        coalesce(
            case when not u.is_super_node then u.customer_number end,
            case when not e.is_super_node then e.customer_number end,
            case when not p.is_super_node then p.customer_number end,
            case when not a.is_super_node then a.customer_number end,
            u.customer_number, e.customer_number, p.customer_number, a.customer_number
        ) as customer_number
    from touchpoints as t
    left join int_identifiers__stitched as a
        on a.identifier_type = 'anonymous_id' and a.identifier = t.anonymous_id
    left join int_identifiers__stitched as u
        on u.identifier_type = 'user_id_hash' and u.identifier = t.user_id_hash
    left join int_identifiers__stitched as e
        on e.identifier_type = 'email_hash' and e.identifier = t.email_hash
    left join int_identifiers__stitched as p
        on p.identifier_type = 'phone_hash' and p.identifier = t.phone_hash
    where coalesce(t.anonymous_id, t.user_id_hash, t.email_hash, t.phone_hash) is not null
),

customers as (
    select * from identified
    union all
    select
        ingest_seq, ts, channel, touchpoint, source_session_id,
        case when source_session_id is null then -ingest_seq
            else -min(ingest_seq) over (partition by source, source_session_id)
        end as customer_number
    from touchpoints
    where coalesce(anonymous_id, user_id_hash, email_hash, phone_hash) is null
),

final as (
    select
        c.*,
        coalesce(r.is_conversion, false) as is_conversion,
        coalesce(r.is_cart, false) as is_cart,
        coalesce(r.is_checkout, false) as is_checkout
    from customers as c
    left join roles as r on r.touchpoint = c.touchpoint
    where not coalesce(r.is_excluded, false)
)

select * from final
