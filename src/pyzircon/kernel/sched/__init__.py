"""The deterministic scheduler: one run loop over greenlets, ordered by a seeded RNG."""
