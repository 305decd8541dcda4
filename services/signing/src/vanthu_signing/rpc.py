"""`vanthu.rpc.signing.verify`: interop and registry validate a stored PDF over NATS.

Replies are plain JSON (`VerifyReply`); the queue group spreads requests over replicas.
"""

from __future__ import annotations

import logging

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError

from vanthu_contracts import errors as common
from vanthu_contracts.events import signing as contract
from vanthu_runtime.errors import AppError
from vanthu_signing.failures import as_app_error
from vanthu_signing.storage import PdfStorage
from vanthu_signing.validation import Validator

log = logging.getLogger("vanthu.signing.rpc")
QUEUE_GROUP = "signing"


async def serve_verify(nc: NATS, validator: Validator, storage: PdfStorage) -> Subscription:
    async def on_request(msg: Msg) -> None:
        try:
            request = contract.VerifyStored.model_validate_json(msg.data)
            pdf = await storage.fetch(request.sha256)
            reply = contract.VerifyReply(report=await validator.validate(pdf, request.name))
        except ValidationError as exc:
            reply = contract.VerifyReply(
                error=AppError(common.VALIDATION, {"detail": str(exc)[:300]}).body().model_dump()
            )
        except Exception as exc:
            error = as_app_error(exc)
            if not isinstance(exc, AppError):
                log.warning("verify failed: %r", exc)
            reply = contract.VerifyReply(error=error.body().model_dump())
        await msg.respond(reply.model_dump_json().encode())

    return await nc.subscribe(contract.VERIFY.subject, queue=QUEUE_GROUP, cb=on_request)
