"""devframe plugin for <rng> devices."""
