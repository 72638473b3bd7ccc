"""Keep client addresses of the anonymous routes out of the access log.

Pingan's own request log (``pingan.http``) never records addresses. uvicorn's
access log does, when a deployment runs uvicorn directly and leaves it on;
this filter blanks the address on the public routes (anonymous tips, the
petitioner's lookup), whatever handler or format the deployment chose.
"""

from __future__ import annotations

import logging

PUBLIC_PREFIXES = ("/api/v1/public/tips", "/api/v1/public/petitions")


class ScrubPublicClients(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access: (client_addr, method, full_path, http_version, status_code)
        if isinstance(args, tuple) and len(args) >= 3 and str(args[2]).startswith(PUBLIC_PREFIXES):
            record.args = ("-", *args[1:])
        # Any other structured record that names a client on these routes.
        path = getattr(record, "path", None)
        if isinstance(path, str) and path.startswith(PUBLIC_PREFIXES):
            for attr in ("client", "client_addr", "ip", "remote_addr"):
                if hasattr(record, attr):
                    setattr(record, attr, "-")
        return True


def install() -> None:
    """Attach the filter once to the access loggers (idempotent)."""
    for name in ("uvicorn.access", "pingan.http"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubPublicClients) for f in logger.filters):
            logger.addFilter(ScrubPublicClients())
