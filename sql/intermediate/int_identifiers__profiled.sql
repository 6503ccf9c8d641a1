-- grain: one row per identifier (identifier_type, identifier) seen on any touchpoint or
--   identity record, numbered (node_id) in identifier order, with how many distinct
--   identifiers of each type it was seen with and whether that makes it a super-node
-- time column: none
-- parameters: cfg_identity (max_customers_per_identifier, max_devices_per_identifier)
with seen as (
    select 'anonymous_id' as identifier_type, anonymous_id as identifier from touchpoints
    union
    select 'user_id_hash', user_id_hash from touchpoints
    union
    select 'email_hash', email_hash from touchpoints
    union
    select 'phone_hash', phone_hash from touchpoints
    union
    select 'user_id_hash', user_id_hash from identities
    union
    select 'email_hash', email_hash from identities
    union
    select 'phone_hash', phone_hash from identities
),

both_directions as (
    select identifier_type_a as identifier_type, identifier_a as identifier,
        identifier_type_b as partner_type, identifier_b as partner
    from int_identifier_pairs__extracted
    union
    select identifier_type_b, identifier_b, identifier_type_a, identifier_a
    from int_identifier_pairs__extracted
),

partners as (
    select
        identifier_type,
        identifier,
        count(*) filter (where partner_type = 'anonymous_id') as anonymous_id_partners,
        count(*) filter (where partner_type = 'user_id_hash') as user_id_partners,
        count(*) filter (where partner_type = 'email_hash') as email_partners,
        count(*) filter (where partner_type = 'phone_hash') as phone_partners
    from both_directions
    group by identifier_type, identifier
),

final as (
    select
        row_number() over (order by s.identifier_type, s.identifier) as node_id,
        s.identifier_type,
        s.identifier,
        coalesce(p.anonymous_id_partners, 0) as anonymous_id_partners,
        coalesce(p.user_id_partners, 0) as user_id_partners,
        coalesce(p.email_partners, 0) as email_partners,
        coalesce(p.phone_partners, 0) as phone_partners,
        coalesce(
            p.anonymous_id_partners > c.max_devices_per_identifier
            or p.user_id_partners > c.max_customers_per_identifier
            or p.email_partners > c.max_customers_per_identifier
            or p.phone_partners > c.max_customers_per_identifier,
            false
        ) as is_super_node
    from seen as s
    cross join cfg_identity as c
    left join partners as p
        on p.identifier_type = s.identifier_type and p.identifier = s.identifier
    where s.identifier is not null
)

select * from final
