"""The scan's replication blocks on a Dask distributed cluster.

Each block is the same call with the same seeded stream as on local threads,
so the replicate maxima (and every p-value) are identical whichever runs them.
The read-only arrays every block needs are scattered to the workers once;
a task then carries only its block's seed and size. Workers need Pingan
installed (they import ``pingan.analytics.scan``), never the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pingan.analytics._arrays import FloatArray

if TYPE_CHECKING:
    from distributed import Client

# How long to wait for the scheduler before giving up with a clear error.
CONNECT_TIMEOUT_S = 30


def _connect(scheduler: str | Client) -> tuple[Any, bool]:
    """A client for the address (ours to close), or the caller's own client."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - the extra is part of dev
        raise RuntimeError(
            "a Dask scheduler was given but dask.distributed is not installed "
            "(pip install 'pingan[dask]')"
        ) from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ValueError("scheduler must be an address like tcp://host:8786 or a Client")
    try:
        # distributed is untyped: the client is handled as Any from here on.
        connect: Any = Client
        return connect(scheduler.strip(), set_as_default=False, timeout=CONNECT_TIMEOUT_S), True
    except ValueError as exc:  # no port, unknown scheme
        raise ValueError(f"bad Dask scheduler address {scheduler!r}: {exc}") from None
    except OSError as exc:
        raise RuntimeError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None


def run_blocks(
    scheduler: str | Client,
    block: Callable[..., FloatArray],
    seeds: Sequence[np.random.SeedSequence],
    sizes: Sequence[int],
    shared: dict[str, Any],
) -> list[FloatArray]:
    """``block(seed, size, **shared)`` for every block on the cluster, in block order."""
    client, owned = _connect(scheduler)
    try:
        on_workers = client.scatter(shared, broadcast=True, hash=False)
        futures = [
            client.submit(block, seed, size, pure=False, **on_workers)
            for seed, size in zip(seeds, sizes, strict=True)
        ]
        return [np.asarray(part, dtype=np.float64) for part in client.gather(futures)]
    finally:
        if owned:
            client.close()
