"""Org units (city > district > subdistrict > community > grid), users, roles, auth."""
