"""Key sites, key areas and residential compounds."""
