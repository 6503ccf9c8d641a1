-- grain: one row per touchpoint that is a journey step (touchpoints with the role
--   'excluded' are left out), with its customer_key and touchpoint roles
-- time column: ts
-- parameters: cfg_touchpoint_roles (conversion, cart, checkout, excluded)
-- customer_key: the stitched group of the row's identifiers (all usable identifiers on one
--   row share a group); if every identifier is a super-node, the first of user id, email,
--   phone, device; with no identifier, the source's session, else the event alone.
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
),

keyed_sets as (
    select
        s.*,
        coalesce(
            case when not u.is_super_node then u.customer_key end,
            case when not e.is_super_node then e.customer_key end,
            case when not p.is_super_node then p.customer_key end,
            case when not a.is_super_node then a.customer_key end,
            u.customer_key, e.customer_key, p.customer_key, a.customer_key
        ) as identity_key
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

final as (
    select
        t.event_id,
        t.source,
        t.ingest_seq,
        t.ts,
        t.channel,
        t.touchpoint,
        t.source_session_id,
        t.page,
        t.device,
        t.wait_seconds,
        t.handle_seconds,
        t.outcome,
        t.satisfaction,
        t.topic,
        t.revenue,
        coalesce(
            k.identity_key,
            md5('source_session:' || t.source || ':' || t.source_session_id),
            md5('event:' || t.event_id)
        ) as customer_key,
        coalesce(r.is_conversion, false) as is_conversion,
        coalesce(r.is_cart, false) as is_cart,
        coalesce(r.is_checkout, false) as is_checkout
    from touchpoints as t
    left join keyed_sets as k
        on k.anonymous_id is not distinct from t.anonymous_id
        and k.user_id_hash is not distinct from t.user_id_hash
        and k.email_hash is not distinct from t.email_hash
        and k.phone_hash is not distinct from t.phone_hash
    left join roles as r on r.touchpoint = t.touchpoint
    where not coalesce(r.is_excluded, false)
)

select * from final
