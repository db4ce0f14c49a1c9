"""Staff: sign-in, roles and permissions, registered devices."""
