-- grain: one row per channel among the journey steps, with its code: the channel's
--   0-based position in channel order, so that list_sort(list(channel)) decodes code c as
--   its element c + 1
-- time column: none
-- parameters: none (the steps are the stitched touchpoints)
-- like int_touchpoint_names__coded: the sessionized steps and the per-session channel
--   lists carry the code, and only the models that show a channel name decode it
with channels as (
    select distinct channel
    from int_touchpoints__stitched
    where channel is not null
),

final as (
    select channel, cast(row_number() over (order by channel) - 1 as integer) as code
    from channels
)

select * from final
