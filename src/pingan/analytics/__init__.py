"""Pure computation for heat maps, hotspots and rates: numpy/scipy kernels only.

Nothing here touches the database or HTTP; a domain's service pulls the arrays
it needs and calls these functions. Method notes live in ``docs/analytics.md``.

Modules: ``binning`` (rasters, time steps, H3), ``kernels`` and ``heat`` (KDE),
``rasters``, ``tiles``, ``contours``, ``geotiff`` (outputs), ``weights``
(spatial weights), ``permutation`` and ``significance`` (inference),
``hotspots`` (Getis-Ord Gi / Gi*), ``moran`` (global and local Moran's I),
``trend`` and ``emerging`` (space-time hotspots), ``rates``.
"""
