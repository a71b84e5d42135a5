"""Shared test helpers: one place for latents, weights, the fake WebUI host and the local hub."""
