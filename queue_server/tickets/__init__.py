"""Tickets: issuing (one use case for every channel), calling at windows, positions and quotes."""
