"""Identity: JWT bearer tokens verified into a `Principal`, and the FastAPI glue.

- `principal`: the `Principal` model and its claim mapping.
- `verifier`: `TokenVerifier` (asymmetric algorithms only; fixed key or JWKS).
- `dev_issuer`: `DevTokenIssuer` and `ensure_dev_keypair` for the embedded mode.
- `dependencies`: `bearer_principal`, `CurrentPrincipal`, `require_roles`, `ProvinceOperator`.
"""

from vanthu_runtime.auth.dependencies import (
    CurrentPrincipal,
    ProvinceOperator,
    bearer_principal,
    province_operator,
    require_roles,
)
from vanthu_runtime.auth.dev_issuer import DevTokenIssuer, ensure_dev_keypair
from vanthu_runtime.auth.keys import ALLOWED_ALGORITHMS
from vanthu_runtime.auth.principal import Principal
from vanthu_runtime.auth.verifier import TokenVerifier

__all__ = [
    "ALLOWED_ALGORITHMS",
    "CurrentPrincipal",
    "DevTokenIssuer",
    "Principal",
    "ProvinceOperator",
    "TokenVerifier",
    "bearer_principal",
    "ensure_dev_keypair",
    "province_operator",
    "require_roles",
]
