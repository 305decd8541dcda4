"""PAdES signing with pyHanko: directly with a key (HSM, key file) or in two halves around a
remote signer (the token agent).

`bytes_reserved` is always given: without it pyHanko signs twice per document, once as a
dry run to size the signature container (engineering notes §5).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import ExternalSigner, Signer
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from vanthu_contracts.events.signing import PadesLevel
from vanthu_signing.pdf.plan import FieldPlan

DIGEST = "sha256"
# Room for the CMS container: RSA-4096 signature, a chain of four certificates and, from B-T
# on, an RFC 3161 token with its own chain. pyHanko fails loudly if it does not fit.
BYTES_RESERVED = {PadesLevel.B_B: 16384, PadesLevel.B_T: 32768, PadesLevel.B_LT: 32768}


@dataclass(frozen=True)
class SignOptions:
    level: PadesLevel
    reason: str = ""
    location: str = ""
    signer_name: str | None = None
    timestamper: TimeStamper | None = None
    validation_context: ValidationContext | None = None  # B-LT: trust roots, fetching allowed


def _metadata(plan: FieldPlan, options: SignOptions) -> signers.PdfSignatureMetadata:
    lt = options.level is PadesLevel.B_LT
    return signers.PdfSignatureMetadata(
        field_name=plan.field_name,
        md_algorithm=DIGEST,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=options.reason or None,
        location=options.location or None,
        name=options.signer_name,
        embed_validation_info=lt,
        validation_context=options.validation_context if lt else None,
        use_pades_lta=False,
    )


def _pdf_signer(plan: FieldPlan, options: SignOptions, signer: Signer) -> signers.PdfSigner:
    if options.level is not PadesLevel.B_B and options.timestamper is None:
        raise ValueError(f"{options.level} needs a timestamper")
    return signers.PdfSigner(
        _metadata(plan, options),
        signer=signer,
        timestamper=options.timestamper if options.level is not PadesLevel.B_B else None,
        stamp_style=plan.style,
        new_field_spec=fields.SigFieldSpec(
            sig_field_name=plan.field_name, on_page=plan.page_index, box=plan.box.as_tuple()
        ),
    )


def _writer(pdf: bytes, reader: PdfFileReader | None) -> IncrementalPdfFileWriter:
    # Reusing the reader that checked the file saves parsing it a second time.
    if reader is not None:
        return IncrementalPdfFileWriter.from_reader(reader)
    return IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)


async def sign(
    pdf: bytes, plan: FieldPlan, options: SignOptions, signer: Signer, reader: PdfFileReader | None = None
) -> bytes:
    writer = _writer(pdf, reader)
    out = await _pdf_signer(plan, options, signer).async_sign_pdf(
        writer,
        bytes_reserved=BYTES_RESERVED[options.level],
        appearance_text_params=plan.text_params or None,
    )
    return out.getvalue()


@dataclass
class PreparedSignature:
    """Phase one of interrupted signing: the document digested, waiting for a signature value."""

    signed_attrs: cms.CMSAttributes
    prepared_digest: PreparedByteRangeDigest
    tbs: PdfTBSDocument
    output: Any  # the partly written PDF (a BytesIO)
    signing_cert: asn1_x509.Certificate
    cert_registry: SimpleCertificateStore

    @property
    def to_sign(self) -> bytes:
        """The DER the remote key signs (hash-and-sign, e.g. CKM_SHA256_RSA_PKCS)."""
        return self.signed_attrs.dump()

    @property
    def document_digest(self) -> bytes:
        return self.prepared_digest.document_digest


def _placeholder_size(cert: asn1_x509.Certificate) -> int:
    public_key = cert.public_key
    if public_key.algorithm == "rsa":
        return (public_key.bit_size + 7) // 8
    return 2 * ((public_key.bit_size + 7) // 8) + 16  # DER-encoded ECDSA (r, s)


async def prepare(
    pdf: bytes,
    plan: FieldPlan,
    options: SignOptions,
    signing_cert: asn1_x509.Certificate,
    chain: list[asn1_x509.Certificate],
    reader: PdfFileReader | None = None,
) -> PreparedSignature:
    registry = SimpleCertificateStore.from_certs([signing_cert, *chain])
    placeholder = ExternalSigner(
        signing_cert, registry, signature_value=bytes(_placeholder_size(signing_cert))
    )
    pdf_signer = _pdf_signer(plan, options, placeholder)
    writer = _writer(pdf, reader)
    prepared_digest, tbs, output = await pdf_signer.async_digest_doc_for_signing(
        writer,
        bytes_reserved=BYTES_RESERVED[options.level],
        appearance_text_params=plan.text_params or None,
    )
    signed_attrs = await placeholder.signed_attrs(
        prepared_digest.document_digest, DIGEST, use_pades=True, timestamper=None
    )
    return PreparedSignature(signed_attrs, prepared_digest, tbs, output, signing_cert, registry)


async def finish(prepared: PreparedSignature, signature_value: bytes, options: SignOptions) -> bytes:
    """Phase two: embed the remote signature value (and timestamp, validation data)."""
    external = ExternalSigner(prepared.signing_cert, prepared.cert_registry, signature_value=signature_value)
    timestamper = options.timestamper if options.level is not PadesLevel.B_B else None
    signature_cms = await external.async_sign_prescribed_attributes(
        DIGEST, signed_attrs=prepared.signed_attrs, timestamper=timestamper
    )
    lt = options.level is PadesLevel.B_LT
    await PdfTBSDocument.async_finish_signing(
        prepared.output,
        prepared_digest=prepared.prepared_digest,
        signature_cms=signature_cms,
        post_sign_instr=prepared.tbs.post_sign_instructions,
        validation_context=options.validation_context if lt else None,
    )
    return prepared.output.getvalue()
