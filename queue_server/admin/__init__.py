"""Administration: halls, queues, service items, windows, users, devices, the change log."""
