"""Random streams for the generator, one per component, all derived from the seed.

Each part of the city draws from its own stream, so changing how roads are
drawn does not move every incident. Stream names are hashed with CRC-32,
which, unlike ``hash()``, does not change between Python processes.
"""

from __future__ import annotations

import zlib

import numpy as np

from pingan.kit.errors import ValidationFailed


def stream(seed: int, name: str) -> np.random.Generator:
    if seed < 0:
        raise ValidationFailed("the seed must be a non-negative integer", field="seed")
    sequence = np.random.SeedSequence([seed, zlib.crc32(name.encode())])
    return np.random.Generator(np.random.PCG64(sequence))
