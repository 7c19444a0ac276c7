"""``python -m jupyterlab_oidc.cli`` is ``jupyter oidc``."""

from . import run

run()
