-- grain: one row per (from_touchpoint, to_touchpoint) pair of consecutive steps inside
--   sessions, with '(start)' before each session's first step and '(exit)' after its last
-- time column: none (aggregated over all sessions); seconds are from one step to the next
-- parameters: cfg_session (collapse_repeats: a run of one touchpoint counts once, timed
--   from its last occurrence), applied in int_transition_moves__listed
-- aggregated with the journey transitions in one pass (int_transitions__aggregated)
with final as (
    select
        from_touchpoint,
        to_touchpoint,
        transitions,
        customers,
        median_seconds,
        p90_seconds
    from int_transitions__aggregated
    where unit = 'session'
)

select * from final
