"""The suite's fixtures come from plugins (as jupyter-collaboration does); nothing imports this file.

- ``tests.plugins.provider``: the real dev OpenID provider (dev/idp), the ``oidc`` marker
- ``tests.plugins.jupyter``: a real Jupyter server with the extension (pytest-jupyter), its REST
  API (``api``), the owner's browser and the sign-in driver (``begin_sign_in``, ``sign_in``)
- ``tests.plugins.overlap``: requests that really overlap (a held refresh, who reached the broker)
- ``tests.plugins.kernels``: the kernel tests' ``jupyter server`` subprocess and its kernels
- ``tests.plugins.hub``: a real JupyterHub per module

Helpers to import: tests/support.py (Reply, token_fields, ...), tests/idp.py (USERS, the provider).
"""

pytest_plugins = [
    "pytest_jupyter.jupyter_server",
    "tests.plugins.provider",
    "tests.plugins.jupyter",
    "tests.plugins.overlap",
    "tests.plugins.kernels",
    "tests.plugins.hub",
]
