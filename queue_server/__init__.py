"""OneWindow ticket server.

Importing the package stays light (no Flask, no Redis) so that `queue-server run`
can monkey-patch eventlet before either is imported.
"""

from __future__ import annotations

__version__ = "0.1.0"


def create_app(*args, **kwargs):
    """Build the Flask app (see queue_server.app.create_app)."""
    from queue_server.app import create_app as factory

    return factory(*args, **kwargs)
