"""E-mail for notifications, over SMTP, when configured.

Notifications are stored (and published) first; this loop then sends the ones marked
`pending` to the user's address (their routing preference, else the directory's), and marks
them `sent`, `skipped` (no address or e-mail turned off) or, after `mail_max_attempts`,
`failed`. The standard library's smtplib runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from vanthu_routing.repos.notifications import NotificationRepo
from vanthu_routing.services.context import RoutingContext
from vanthu_routing.settings import RoutingSettings

log = logging.getLogger("vanthu.routing.mailer")


class Mailer:
    def __init__(self, ctx: RoutingContext, settings: RoutingSettings) -> None:
        self.ctx = ctx
        self.settings = settings

    def _message(self, row: dict) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.settings.smtp_from
        address = row["pref_email"] or row["dir_email"]
        msg["To"] = formataddr((row.get("full_name") or "", address))
        msg["Subject"] = row["title_vi"][:200]
        msg["Message-ID"] = make_msgid(idstring=row["id"], domain="vanthu")
        msg.set_content(
            f"{row['title_vi']}\n\n{row['title_en']}\n\n— vanthu ({row['ref_type']} {row['ref_id']})\n",
            charset="utf-8",
        )
        return msg

    def _send_sync(self, messages: list[EmailMessage]) -> list[Exception | None]:
        s = self.settings
        context = ssl.create_default_context()
        smtp_cls = smtplib.SMTP_SSL if s.smtp_ssl else smtplib.SMTP
        kwargs = {"context": context} if s.smtp_ssl else {}
        outcomes: list[Exception | None] = []
        with smtp_cls(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s, **kwargs) as smtp:
            if s.smtp_starttls and not s.smtp_ssl:
                smtp.starttls(context=context)
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
            for message in messages:
                try:
                    smtp.send_message(message)
                    outcomes.append(None)
                except smtplib.SMTPException as exc:
                    outcomes.append(exc)
        return outcomes

    async def send_pending(self, limit: int = 100) -> int:
        """One round: returns how many messages the SMTP server accepted."""
        async with self.ctx.uow.read() as session:
            rows = await NotificationRepo(session).pending_mail(limit)
        if not rows:
            return 0
        to_send = [r for r in rows if (r["pref_email"] or r["dir_email"]) and r["email_enabled"] is not False]
        skipped = [r for r in rows if r not in to_send]
        outcomes: list[Exception | None]
        try:
            outcomes = await asyncio.to_thread(self._send_sync, [self._message(r) for r in to_send])
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("smtp %s:%s unavailable: %r", self.settings.smtp_host, self.settings.smtp_port, exc)
            outcomes = [exc] * len(to_send)
        sent = 0
        async with self.ctx.uow.begin() as tx:
            repo = NotificationRepo(tx.session)
            for row in skipped:
                await repo.mail_outcome(row["id"], "skipped", row["email_attempts"])
            for row, error in zip(to_send, outcomes, strict=True):
                attempts = row["email_attempts"] + 1
                if error is None:
                    sent += 1
                    await repo.mail_outcome(row["id"], "sent", attempts)
                else:
                    final = attempts >= self.settings.mail_max_attempts
                    await repo.mail_outcome(row["id"], "failed" if final else "pending", attempts)
        return sent

    async def run(self) -> None:
        while True:
            try:
                await self.send_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("mail round failed")
            await asyncio.sleep(self.settings.mail_interval_s)
