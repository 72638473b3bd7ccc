"""Dispatch: the road graph (more to come: responders, assignments, escalation)."""
