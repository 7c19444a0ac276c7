"""Pending sign-ins: the flow, the browser binding, redirect URIs and the OAuth state."""
