"""Socket.IO: subscriptions, events after commit, fan-out across processes, call audio."""
