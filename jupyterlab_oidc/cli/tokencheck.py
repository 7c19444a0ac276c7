"""``jupyter oidc check``: the report mode of the one id_token check (``core/idtoken.py``)."""

from __future__ import annotations

from ..core.idtoken import ORDER, TITLES, Report, Step, check_id_token, describe_key

__all__ = ["ORDER", "TITLES", "Report", "Step", "check_id_token", "describe_key"]
