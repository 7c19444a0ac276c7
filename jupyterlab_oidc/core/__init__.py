"""The protocol core: sign-in, sessions, refresh, provider endpoints. No tornado, jupyter_server or traitlets."""
