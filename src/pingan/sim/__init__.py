"""The synthetic city: deterministic by seed, with planted ground truth."""
