"""OGC API - Features (Part 1: Core) over Pingan's layers, and file exports of the same layers.

GIS tools (QGIS, OWSLib, GDAL) read org units, incidents (points in scope, or
counts per grid), stored hotspot runs and alerts straight from the server,
always with the caller's org scope applied, as the rest of the API does.
"""
