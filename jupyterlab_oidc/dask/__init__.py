"""Fresh access tokens on Dask workers: ``client.register_plugin(OIDCPlugin(environment="prod"))``.

Needs ``pip install jupyterlab_oidc[dask]``. Inside a task, ``get_token()`` and ``OIDCBearer()``
from ``jupyterlab_oidc`` work as in the kernel; workers hold only the access token the notebook
pushed (never the refresh token) and never call the Jupyter server or the provider.
See docs/dask.md. The rest of ``jupyterlab_oidc`` never imports dask.
"""

from __future__ import annotations

from .plugin import OIDCPlugin, OIDCSchedulerPlugin
from .worker import NotAuthenticatedError, states

__all__ = ["NotAuthenticatedError", "OIDCPlugin", "OIDCSchedulerPlugin", "states"]
