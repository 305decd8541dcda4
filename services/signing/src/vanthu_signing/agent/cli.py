"""`vanthu token-agent`: the process a signer runs on their own computer."""

from __future__ import annotations

import base64
import os
import time

import typer

from vanthu_signing.agent.device import DeviceError, TokenDevice

agent_app = typer.Typer(
    name="token-agent",
    help="Ký số bằng USB token trên máy người ký / sign on your USB token for the platform",
    invoke_without_command=True,
)

PIN_ENV = "VANTHU_TOKEN_AGENT_PIN"
TOKEN_ENV = "VANTHU_TOKEN_AGENT_TOKEN"


def _signed_digest(to_sign: bytes) -> str:
    """The document digest inside the signed attributes: what the token really signs."""
    from asn1crypto import cms

    attrs = cms.CMSAttributes.load(to_sign)
    for attr in attrs:
        if attr["type"].native == "message_digest":
            return attr["values"][0].native.hex()
    raise ValueError("no message digest in the signed attributes")


def _show(display: dict, digest: str) -> None:
    typer.echo("")
    typer.echo("=== Yêu cầu ký số / Signing request ===")
    typer.echo(f"Văn bản số / Number: {display.get('document_number') or '-'}")
    typer.echo(f"Trích yếu / Subject: {display.get('subject') or '-'}")
    typer.echo(f"Tệp / File: {display.get('file_name')}  (SHA-256 {display.get('file_sha256')})")
    typer.echo(f"Loại chữ ký / Kind: {display.get('kind')}   Lý do / Reason: {display.get('reason') or '-'}")
    typer.echo(
        f"Chức vụ, họ tên / Title, name: {display.get('position_title') or '-'} — {display.get('full_name') or '-'}"
    )
    typer.echo(f"Mã băm được ký / Digest being signed: {digest}")


@agent_app.callback()
def run(
    service_url: str = typer.Option(
        ...,
        "--service-url",
        envvar="VANTHU_TOKEN_AGENT_SERVICE_URL",
        help="https://…/ of the signing service",
    ),
    module: str = typer.Option(
        ..., "--module", envvar="VANTHU_TOKEN_AGENT_MODULE", help="PKCS#11 module of the token driver"
    ),
    token_label: str = typer.Option(..., "--token-label", envvar="VANTHU_TOKEN_AGENT_TOKEN_LABEL"),
    key_label: str | None = typer.Option(None, "--key-label", envvar="VANTHU_TOKEN_AGENT_KEY_LABEL"),
    key_id: str | None = typer.Option(None, "--key-id", help="Key id in hex, if no label"),
    max_requests: int = typer.Option(
        0, "--max-requests", help="Stop after answering this many requests (0 = run on)"
    ),
    ca_bundle: str | None = typer.Option(
        None, "--ca-bundle", help="CA file for the service's TLS certificate"
    ),
    poll_wait: float = typer.Option(20.0, "--poll-wait", help="Long-poll length in seconds"),
) -> None:
    """Đăng nhập bằng mã truy cập của bạn, chờ yêu cầu ký và ký trên token.

    The bearer token comes from VANTHU_TOKEN_AGENT_TOKEN (the platform's sign-in); the PIN is
    asked for each signature, or read from VANTHU_TOKEN_AGENT_PIN (tests, kiosks).
    """
    from vanthu_signing.agent.client import ServiceError, SigningServiceClient

    bearer = os.environ.get(TOKEN_ENV)
    if not bearer:
        typer.echo(f"Thiếu mã đăng nhập / missing sign-in token: set {TOKEN_ENV}", err=True)
        raise typer.Exit(2)
    device = TokenDevice(module, token_label, key_label, bytes.fromhex(key_id) if key_id else None)
    client = SigningServiceClient(service_url, bearer, verify=ca_bundle or True, poll_wait_s=poll_wait)
    try:
        profiles = client.register_certificate(device.certificate())
        typer.echo(f"Đã đăng ký chứng thư số / certificate registered for: {', '.join(profiles)}")
        answered = 0
        while not max_requests or answered < max_requests:
            try:
                requests = client.pending()
            except (ServiceError, OSError) as exc:
                typer.echo(f"Mất kết nối, thử lại / connection problem, retrying: {exc}", err=True)
                time.sleep(3)
                continue
            for request in requests:
                to_sign = base64.b64decode(request["to_sign_b64"])
                display = request["display"]
                try:
                    digest = _signed_digest(to_sign)
                except ValueError:
                    client.decline(request["id"], "signing.token_declined")
                    continue
                _show(display, digest)
                if digest != display.get("document_digest_sha256"):
                    # The service must not get a signature over something other than what is shown.
                    typer.echo(
                        "Mã băm không khớp nội dung hiển thị — từ chối / digest mismatch — declined", err=True
                    )
                    client.decline(request["id"], "signing.token_declined")
                    continue
                pin = os.environ.get(PIN_ENV) or typer.prompt(
                    "Mã PIN / PIN", hide_input=True, default="", show_default=False
                )
                if not pin:
                    client.decline(request["id"], "signing.token_declined")
                    typer.echo("Đã từ chối ký / declined")
                else:
                    try:
                        client.answer(request["id"], device.sign(to_sign, pin))
                        typer.echo("Đã ký / signed")
                    except DeviceError as exc:
                        client.decline(request["id"], exc.code)
                        typer.echo(f"Không ký được / could not sign: {exc}", err=True)
                answered += 1
    except DeviceError as exc:
        typer.echo(f"Lỗi thiết bị ký / device error: {exc}", err=True)
        raise typer.Exit(3) from exc
    except ServiceError as exc:
        typer.echo(f"Lỗi dịch vụ ký / service error: {exc}", err=True)
        raise typer.Exit(4) from exc
    finally:
        client.close()
