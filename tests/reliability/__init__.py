"""Reliability under faults: each test runs real server processes against real dependencies.

- test_crash.py: SIGKILL while 20 clients issue and call (SQLite, PostgreSQL), restart, audit.
- test_database_outage.py: a private PostgreSQL stopped and started under load; SQLite's write
  lock held by another program (waited out for up to 10 s, then 503 "busy").
- test_printer_stall.py: a network printer that accepts and then stops reading.
- test_clock.py: local midnight under concurrent issue and call; clock steps (NTP) and aging.
- test_bad_input.py: schemathesis over the OpenAPI document; odd Socket.IO credentials; bodies too large.
- test_deployment.py: deploy/nginx/onewindow.conf under Debian's nginx, two processes, PostgreSQL, Redis.

The Redis outage with two processes lives in tests/server/test_scaleout.py, and malformed
subscribe payloads, unknown events and oversized Socket.IO messages in tests/server/test_errors.py.
"""
