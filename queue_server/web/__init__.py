"""The HTTP edge every blueprint shares: route declarations, schemas, errors, limits, headers, health."""
