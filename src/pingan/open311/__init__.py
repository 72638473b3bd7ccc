"""Open311 GeoReport v2 over grid-event cases."""
