"""The Jupyter glue: the ExtensionApp, the ``OIDCLogin`` traits, the REST handlers and routes."""
