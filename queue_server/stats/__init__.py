"""Statistics, exports and the simulated day."""
