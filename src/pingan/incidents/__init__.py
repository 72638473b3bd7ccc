"""Incidents: the taxonomy, intake (API, batch, files) and grid assignment."""
