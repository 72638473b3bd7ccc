"""The periodic petitions job: close matters whose review window lapsed unused.

Closing stops the window's clock, so such matters leave the overdue inboxes;
``close`` is idempotent per matter (a closed matter has no running window).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from pingan.governance.petitions_steps import close_lapsed
from pingan.kit import jobs
from pingan.kit.db import session_scope

CLOSE_LAPSED = "petitions.close_lapsed"


@jobs.register(CLOSE_LAPSED, "Close petitions whose review window lapsed unused")
def close_lapsed_job(
    engine: Engine, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    with session_scope(engine) as session:
        closed = close_lapsed(session)
    progress(1.0, f"{len(closed)} matters closed")
    return {"closed": closed}
