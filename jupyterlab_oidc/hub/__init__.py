"""The hub-wide OpenID Connect callback forwarder (``python -m jupyterlab_oidc.hub``).

Run it as a JupyterHub managed service so one redirect URI,
``https://hub.example.com/services/oidc-callback/``, serves every user: the provider sends
the browser there, and the service sends it on to
``/user/{name}/oidc/callback?code=…&state=…`` on the same hub, ``name`` being the
JupyterHub user encoded in ``state`` by that user's server (see
:mod:`jupyterlab_oidc.state`). The user's server then checks the state (single use) and
exchanges the code with its PKCE verifier, which never left it: a code sent to the wrong
server is useless there.

The service keeps no state, talks to nobody, and only ever answers a relative path on the
hub. See docs/jupyterhub.md.
"""

from __future__ import annotations

from .forward import ForwardRefused, callback_target, hub_base_url, state_user, user_path

__all__ = ["ForwardRefused", "callback_target", "hub_base_url", "state_user", "user_path"]
