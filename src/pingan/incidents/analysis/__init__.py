"""Analyses over the incidents: heat maps, hotspots, emerging hotspots and rates.

This package connects the event cube (``incidents.cube``) to the pure kernels
in ``pingan.analytics``: it resolves a request's filters within the caller's
scope, bins the incidents into cells, org grids or units, runs the statistic
and shapes the answer (GeoJSON, PNG tiles, GeoTIFF, CSV). Each analysis also
runs as a stored job (``runs``), so a figure can be reproduced from its
parameters, data window and software version.
"""
