-- grain: one row per (from_touchpoint, to_touchpoint) pair of consecutive steps inside
--   journeys (across session boundaries), with '(start)' before each journey's first step
--   and '(exit)' after its last
-- time column: none (aggregated over all journeys); seconds are from one step to the next
-- parameters: cfg_session (collapse_repeats, as in session_transitions)
-- aggregated with the session transitions in one pass (int_transitions__aggregated)
with final as (
    select
        from_touchpoint,
        to_touchpoint,
        transitions,
        customers,
        median_seconds,
        p90_seconds
    from int_transitions__aggregated
    where unit = 'journey'
)

select * from final
