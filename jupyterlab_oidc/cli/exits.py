"""Exit codes of ``jupyter oidc`` (documented in docs/cli.md; scripts rely on them)."""

OK = 0
#: ``check`` or ``preflight`` found a failing step.
FAILED = 1
#: Bad command line: unknown verb or option, invalid value, unknown environment or application.
USAGE = 2
#: Not signed in to the environment (or the provider ended the session).
NOT_SIGNED_IN = 3
#: No usable Jupyter server: none running, unreachable, credentials refused, or jupyterlab_oidc not loaded.
NO_SERVER = 4
#: Anything else: the sign-in failed (identity mismatch, timeout, ...), the provider is unavailable, ...
ERROR = 5
#: Interrupted with Ctrl-C (a pending sign-in is cancelled first).
INTERRUPTED = 130
