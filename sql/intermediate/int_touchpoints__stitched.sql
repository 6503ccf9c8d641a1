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

identifier_sets as (
    select distinct anonymous_id, user_id_hash, email_hash, phone_hash
    from touchpoints
    where coalesce(anonymous_id, user_id_hash, email_hash, phone_hash) is not null
),

keyed_sets as (
    select
        s.*,
        coalesce(
            case when not u.is_super_node then u.customer_number end,
            case when not e.is_super_node then e.customer_number end,
            case when not p.is_super_node then p.customer_number end,
            case when not a.is_super_node then a.customer_number end,
            u.customer_number, e.customer_number, p.customer_number, a.customer_number
        ) as customer_number
    from identifier_sets as s
    left join int_identifiers__stitched as a
        on a.identifier_type = 'anonymous_id' and a.identifier = s.anonymous_id
    left join int_identifiers__stitched as u
        on u.identifier_type = 'user_id_hash' and u.identifier = s.user_id_hash
    left join int_identifiers__stitched as e
        on e.identifier_type = 'email_hash' and e.identifier = s.email_hash
    left join int_identifiers__stitched as p
        on p.identifier_type = 'phone_hash' and p.identifier = s.phone_hash
),

customers as (
    select t.ingest_seq, t.ts, t.channel, t.touchpoint, t.source_session_id, k.customer_number
    from touchpoints as t
    inner join keyed_sets as k
        on k.anonymous_id is not distinct from t.anonymous_id
        and k.user_id_hash is not distinct from t.user_id_hash
        and k.email_hash is not distinct from t.email_hash
        and k.phone_hash is not distinct from t.phone_hash
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
