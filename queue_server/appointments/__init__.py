"""Appointments (预约), remote tickets (线上取号) and the messages to citizens."""
