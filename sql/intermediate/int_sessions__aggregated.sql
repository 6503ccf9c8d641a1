-- grain: one row per session (customer_number, segment_number, length_part), with its
--   extent in the customer's step order (first_seq, last_seq) and its step sequence
-- time column: session_start
-- parameters: none
-- slice key: int_touchpoints__sessionized.customer_number (the engine may build it range by
--   range of customers: at 100M events, 4GB, the group-by of 100M steps into 17.8M sessions
--   spills its list states; in 10 ranges, alternating builds took 28.4 and 30.6 s against
--   35.3 s, and 26.6 s in the full benchmark against 30.5 s before)
-- storage: persistent (read by three models): compressed in the database file, it is
--   cheaper to re-read than a temp table spilled uncompressed once the build outgrows memory
-- channels: the distinct channels used, alphabetically, joined with ','
-- lists are sorted after aggregating (list_sort), never aggregated in order: the result
--   does not depend on the order rows arrive in, on either engine
-- touchpoint_sequence: each step is aggregated as one integer (its customer_seq times the
--   number of touchpoint names, plus its touchpoint_code), sorted, and decoded once per
--   session: a list of integers is a lighter aggregate state than one of (seq, name)
--   structs, and it is this state that spills at 100M events
-- codes, not text: the sessionized steps carry touchpoint, channel and split codes, and
--   every group-by key and aggregate state here is an integer; names are decoded once per
--   session in final. Code c is names[c + 1] (the index cast to integer: only then does
--   sqlglot shift it to Spark's 0-based lists); since codes follow name order, the sorted
--   codes of a session's channels decode to its channels in alphabetical order
with names as (
    select list_sort(list(touchpoint)) as names, count(*) as name_count,
        (select list_sort(list(channel)) from int_channel_names__coded) as channel_names
    from int_touchpoint_names__coded
),

channels as (
    select
        customer_number,
        segment_number,
        length_part,
        list_sort(list(channel_code)) as channel_codes,
        count(*) as channel_count
    from int_session_channels__listed
    group by customer_number, segment_number, length_part
),

steps as (
    select
        customer_number,
        segment_number,
        length_part,
        min(ts) as session_start,
        max(ts) as session_end,
        round(epoch(max(ts)) - epoch(min(ts)), 6) as duration_seconds,
        min(customer_seq) as first_seq,
        max(customer_seq) as last_seq,
        count(*) as touchpoints,
        bool_or(is_conversion) as converted,
        arg_min(touchpoint_code, customer_seq) filter (where is_conversion) as conversion_code,
        min(ts) filter (where is_conversion) as conversion_ts,
        bool_or(is_cart) as reached_cart,
        bool_or(is_checkout) as reached_checkout,
        -- a session's first step is the one with a split_code, its last the one whose
        -- next step is not in it: no arg_min/arg_max over every step
        max(touchpoint_code) filter (where split_code is not null) as first_code,
        max(touchpoint_code) filter (where not next_in_session) as last_code,
        -- coded steps sorted as a list: ordered string_agg sorts every session's rows
        -- separately, several times slower
        list_sort(list(customer_seq * n.name_count + cast(touchpoint_code as bigint))) as coded_sequence,
        max(split_code) as split_code
    from int_touchpoints__sessionized
    cross join names as n
    group by customer_number, segment_number, length_part
),

final as (
    select
        s.customer_number, s.segment_number, s.length_part, s.session_start, s.session_end,
        s.duration_seconds, s.first_seq, s.last_seq, s.touchpoints, s.converted,
        -- a null code is not looked up: Spark (ANSI) fails on a null index as on index -1
        case when s.conversion_code is not null
            then n.names[cast(s.conversion_code + 1 as integer)] end as conversion_touchpoint,
        s.conversion_ts, s.reached_cart, s.reached_checkout,
        n.names[cast(s.first_code + 1 as integer)] as first_touchpoint,
        n.names[cast(s.last_code + 1 as integer)] as last_touchpoint,
        array_to_string(
            list_transform(s.coded_sequence, lambda x: n.names[cast(x % n.name_count + 1 as integer)]), ' > '
        ) as touchpoint_sequence,
        case s.split_code
            when 1 then 'first' when 2 then 'timeout' when 3 then 'source_session'
            when 4 then 'channel' when 5 then 'max_length'
        end as split_reason,
        array_to_string(
            list_transform(c.channel_codes, lambda x: n.channel_names[cast(x + 1 as integer)]), ','
        ) as channels,
        c.channel_count
    from steps as s
    cross join names as n
    inner join channels as c
        on c.customer_number = s.customer_number
        and c.segment_number = s.segment_number
        and c.length_part = s.length_part
)

select * from final
