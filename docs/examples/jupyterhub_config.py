"""jupyterlab-oidc on JupyterHub: every user signs in from JupyterLab; one redirect URI.

Register ONE redirect URI per environment with the OpenID provider (a public client,
Authorization Code + PKCE S256, refresh tokens allowed), here for the environment "prod":

    https://hub.example.com/services/oidc-callback/callback/prod

Install ``jupyterlab-oidc`` where the single-user servers run, and where the hub runs
(``pip install --no-deps jupyterlab-oidc authlib`` is enough for the hub). Then merge the
lines below into your jupyterhub_config.py. See docs/jupyterhub.md.
"""

import sys

c = get_config()  # noqa: F821 (JupyterHub provides it)

#: What users type in their browser, without a trailing slash.
HUB = "https://hub.example.com"
#: The service's name is part of the redirect URI: /services/{name}/.
SERVICE = "oidc-callback"

# The hub's public URL (JupyterHub >= 5); servers use it when no redirect URI is given.
c.JupyterHub.public_url = f"{HUB}/"

# Every user's server: which provider, which client, and where the provider sends the
# browser back. Config files in the image (c.OIDCLogin.*) win over these variables.
c.Spawner.environment = {
    "JUPYTERLAB_OIDC_ISSUER": "https://login.example.com",
    "JUPYTERLAB_OIDC_CLIENT_ID": "jupyterhub-notebooks",
    # The server puts the environment's name in place of {environment}.
    "JUPYTERLAB_OIDC_REDIRECT_URI": f"{HUB}/services/{SERVICE}/callback/{{environment}}",
    # "JUPYTERLAB_OIDC_ENV": "prod",  # the environment name users see
}

# Optional: stay signed in across server restarts. The session, including the refresh
# token, is kept in ~/.local/share/jupyter/jupyterlab_oidc/sessions.json (mode 0600).
# Only when home directories are the users' own, persistent ones.
c.Spawner.args = ["--OIDCLogin.store=file"]

# The callback forwarder. JupyterHub starts it, restarts it if it exits, and routes
# /services/oidc-callback/ to it. Browsers log in to it with the hub's OAuth (it forwards a
# callback only to the server of the hub user who brings it): no confirmation page, and the
# OAuth tokens it gets only identify the user (oauth_client_allowed_scopes left empty).
c.JupyterHub.services = [
    {
        "name": SERVICE,
        "url": "http://127.0.0.1:10101",
        "command": [sys.executable, "-m", "jupyterlab_oidc.hub"],
        "display": False,
        "oauth_no_confirm": True,
    },
]
# Every user may log in to the forwarder ("self" is the default user role's own scope).
c.JupyterHub.load_roles = [
    {"name": "user", "scopes": ["self", f"access:services!service={SERVICE}"]},
]
