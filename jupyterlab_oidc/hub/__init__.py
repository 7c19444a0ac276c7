"""The hub-wide OpenID Connect callback forwarder (``python -m jupyterlab_oidc.hub``).

Run it as a JupyterHub managed service so one redirect URI per environment,
``https://hub.example.com/services/oidc-callback/callback/{environment}``, serves every
user: the provider sends the browser there, and the service sends it on to
``/user/{name}/oidc/callback/{environment}?code=…&state=…`` on the same hub, ``name`` being
the JupyterHub user encoded in ``state`` by that user's server (see
:mod:`jupyterlab_oidc.core.signin.state`), but only when the browser is logged in to the hub (the
service is a hub OAuth client) as that very user. A victim who is sent another user's
sign-in link gets a refusal, and the other user's server never sees the code. The user's
server then checks the state (single use) and exchanges the code with its PKCE verifier.

The service only ever answers a relative path on the hub. See docs/jupyterhub.md.
"""

from __future__ import annotations

from .forward import (
    ForwardRefused,
    OtherUsersSignIn,
    callback_target,
    check_browser_user,
    environment_segment,
    hub_base_url,
    owner_of,
    state_user,
    user_path,
)

__all__ = [
    "ForwardRefused",
    "OtherUsersSignIn",
    "callback_target",
    "check_browser_user",
    "environment_segment",
    "hub_base_url",
    "owner_of",
    "state_user",
    "user_path",
]
