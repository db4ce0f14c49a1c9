"""The domain core: numbering, ticket states, routing and wait estimates. No I/O, no Flask."""
