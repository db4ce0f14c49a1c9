"""Flask extensions, created unbound and attached in the app factory."""

from flask_socketio import SocketIO

socketio = SocketIO()
