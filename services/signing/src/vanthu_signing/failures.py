"""Everything that can go wrong while signing, mapped to the stable signing.* codes.

`TRANSIENT` codes may succeed on a later delivery (a device or server was down); the job
is retried with back-off up to the consumer's delivery limit. Every other code is final:
the job fails at once with `signing.document.failed` and goes to the dead-letter stream.
"""

from __future__ import annotations

from pyhanko.pdf_utils.misc import PdfReadError
from pypdf.errors import PyPdfError

from vanthu_contracts import errors as common
from vanthu_contracts.events import signing as contract
from vanthu_runtime.errors import AppError
from vanthu_signing.domain.appearance import PlacementError
from vanthu_signing.keys.certificates import CertificateProblem
from vanthu_signing.keys.pkcs11_pool import HsmError
from vanthu_signing.keys.secrets import SecretMissing
from vanthu_signing.pdf.inspect import PdfProblem
from vanthu_signing.pdf.plan import AnchorMissing, NoPersonalSignature
from vanthu_signing.pdf.stamps import ImageProblem

TRANSIENT = frozenset(
    {
        contract.HSM_UNAVAILABLE.code,
        contract.TSA_UNAVAILABLE.code,
        contract.REVOCATION_UNAVAILABLE.code,
        contract.SIGNING_FAILED.code,
        common.UNAVAILABLE.code,
        common.INTERNAL.code,
    }
)

_PDF = {
    "not_pdf": contract.NOT_PDF,
    "broken": contract.PDF_BROKEN,
    "encrypted": contract.PDF_ENCRYPTED,
    "too_complex": contract.PDF_TOO_COMPLEX,
}
_HSM = {
    "unavailable": contract.HSM_UNAVAILABLE,
    "wrong_pin": contract.WRONG_PIN,
    "pin_locked": contract.PIN_LOCKED,
    "key_not_found": contract.KEY_NOT_FOUND,
}
_CERT = {
    "expired": contract.CERTIFICATE_EXPIRED,
    "not_yet_valid": contract.CERTIFICATE_EXPIRED,
    "key_usage": contract.CERTIFICATE_KEY_USAGE,
    "revoked": contract.CERTIFICATE_REVOKED,
}


def as_app_error(exc: BaseException) -> AppError:
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, PdfProblem):
        return AppError(_PDF[exc.reason], {"detail": exc.detail} if exc.detail else None)
    if isinstance(exc, HsmError):
        return AppError(_HSM[exc.reason], {"detail": exc.detail[:200]} if exc.detail else None)
    if isinstance(exc, CertificateProblem):
        return AppError(_CERT[exc.reason], {"reason": exc.reason})
    if isinstance(exc, AnchorMissing):
        return AppError(contract.ANCHOR_NOT_FOUND, {"anchor": exc.anchor}, anchor=exc.anchor)
    if isinstance(exc, PlacementError):
        return AppError(contract.PLACEMENT_INVALID, {"detail": str(exc)})
    if isinstance(exc, NoPersonalSignature):
        return AppError(contract.NO_PERSONAL_SIGNATURE)
    if isinstance(exc, ImageProblem):
        return AppError(contract.IMAGE_INVALID, {"detail": str(exc)})
    if isinstance(exc, SecretMissing):
        return AppError(contract.PROFILE_INVALID, {"detail": str(exc)})
    name = type(exc).__name__
    if "revoked" in str(exc).lower() and name in (
        "SigningError",
        "PathValidationError",
        "RevokedError",
        "ValidationError",
    ):
        return AppError(contract.CERTIFICATE_REVOKED, {"detail": str(exc)[:200]})
    if name == "TimestampRequestError":
        return AppError(contract.TSA_UNAVAILABLE, {"detail": str(exc)[:200]})
    if name in ("SigningError", "PdfWriteError") and "revocation" in str(exc).lower():
        return AppError(contract.REVOCATION_UNAVAILABLE, {"detail": str(exc)[:200]})
    if name in ("ValidationError", "PathValidationError", "InsufficientRevinfoError", "PathBuildingError"):
        return AppError(contract.REVOCATION_UNAVAILABLE, {"detail": f"{name}: {str(exc)[:200]}"})
    if isinstance(exc, PdfReadError | PyPdfError | RecursionError):
        # pyHanko or pypdf could not make sense of the file while writing into it: another
        # attempt reads the same bytes, so this is final, not a passing system error.
        return AppError(contract.PDF_BROKEN, {"detail": f"{name}: {str(exc)[:200]}"})
    return AppError(contract.SIGNING_FAILED, {"detail": f"{name}: {str(exc)[:200]}"})


def is_transient(error: AppError) -> bool:
    return error.code in TRANSIENT
