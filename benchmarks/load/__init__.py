"""The load test and the soak of issue 11: a realistic mix against real servers.

``run.py`` is the one command; ``city.py`` prepares the database and the
clients' credentials, ``server.py`` starts uvicorn and samples its memory,
``mix.py`` is the Locust user (run in its own process by ``driver.py``),
``sse.py`` holds the open alert streams, ``report.py`` judges the goals.
"""
