"""`vanthu sign …`: signature validation from the command line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

sign_app = typer.Typer(
    name="sign", help="Ký số và kiểm tra chữ ký / signing and signature validation", no_args_is_help=True
)


@sign_app.callback()
def sign() -> None:
    """Ký số và kiểm tra chữ ký số / signing and signature validation."""


@sign_app.command("verify")
def verify(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="PDF cần kiểm tra / the PDF to check"),
    as_json: bool = typer.Option(False, "--json", help="In báo cáo dạng JSON / print the report as JSON"),
    anchor: list[Path] = typer.Option(
        [], "--anchor", help="Thêm chứng thư gốc tin cậy / an extra trust anchor file"
    ),
    offline: bool = typer.Option(False, "--offline", help="Không tải OCSP/CRL / do not fetch OCSP or CRLs"),
) -> None:
    """Kiểm tra mọi chữ ký số trong tệp PDF / validate every signature of a PDF.

    Trust anchors come from VANTHU_SIGNING_TRUST_ANCHOR_VGCA_G2, VANTHU_SIGNING_TRUST_ANCHOR_VN_NATIONAL_ROOT,
    VANTHU_SIGNING_EXTRA_TRUST_ANCHORS and --anchor. Exit code 0: valid; 1: invalid, indeterminate
    or unsigned; 2: the file could not be read.
    """
    from vanthu_signing.failures import as_app_error
    from vanthu_signing.report_text import render
    from vanthu_signing.settings import SigningSettings
    from vanthu_signing.trust import load_anchors
    from vanthu_signing.validation import Validator

    settings = SigningSettings()
    anchors = load_anchors(
        settings.trust_anchor_vgca_g2,
        settings.trust_anchor_vn_national_root,
        [*settings.extra_trust_anchors, *anchor],
    )
    validator = Validator(anchors, allow_fetching=not offline, fetch_timeout_s=settings.fetch_timeout_s)
    try:
        report = asyncio.run(validator.validate(file.read_bytes(), file.name))
    except Exception as exc:
        body = as_app_error(exc).body()
        if as_json:
            typer.echo(body.model_dump_json(indent=2))
        else:
            typer.echo(f"{body.message_vi} / {body.message_en} ({body.code})", err=True)
        raise typer.Exit(2) from exc
    typer.echo(report.model_dump_json(indent=2) if as_json else render(report))
    raise typer.Exit(0 if report.verdict.value == "valid" else 1)
