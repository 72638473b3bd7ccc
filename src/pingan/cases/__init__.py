"""Case workflows: one engine (states, transitions, SLA clocks, escalation, timeline)."""
