-- grain: one row per touchpoint name among the journey steps, with its code: the name's
--   0-based position in name order, so that list_sort(list(touchpoint)) decodes code c as
--   its element c + 1
-- time column: none
-- parameters: none (the steps are the stitched touchpoints)
-- the sessionizing models carry codes instead of names through their sorts and aggregate
--   states: rows and states without text are lighter
with names as (
    select distinct touchpoint
    from int_touchpoints__stitched
    where touchpoint is not null
),

final as (
    select touchpoint, cast(row_number() over (order by touchpoint) - 1 as integer) as code
    from names
)

select * from final
