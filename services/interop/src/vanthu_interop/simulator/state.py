"""What the axis simulator remembers: systems, agencies, packets and per-recipient delivery state.

A test double of the national axis (VDXP), not a copy of it: systems (systemId + secret) own
agencies; a packet sent to an agency is queued for the system that owns it, one delivery per
recipient, until that system acknowledges it with updateStatus(done|fail).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass
class SimAgency:
    code: str
    name: str
    system_id: str
    pcode: str = ""
    mail: str = ""
    code102: str = ""
    old_code: str = ""


@dataclass
class Delivery:
    receiver_doc_id: str
    sender_doc_id: str
    message_type: str
    from_code: str
    to_code: str
    sender_system: str
    receiver_system: str
    packet: Path
    title: str = ""
    notation: str = ""
    status: str = "pending"  # pending | processing | done | fail
    status_desc: str = "Chờ nhận"
    created: datetime = field(default_factory=datetime.now)
    updated: datetime = field(default_factory=datetime.now)
    acknowledged: int = 0

    def received_entry(self) -> dict[str, Any]:
        return {
            "docId": self.receiver_doc_id,
            "serviceType": "eDoc",
            "messageType": self.message_type,
            "created_time": self.created.strftime("%d/%m/%Y %H:%M:%S"),
            "updated_time": self.updated.strftime("%d/%m/%Y %H:%M:%S"),
            "from": self.from_code,
            "to": self.to_code,
            "status": self.status,
            "status_desc": self.status_desc,
        }

    def sent_entry(self) -> dict[str, Any]:
        return {
            "serviceType": "eDoc",
            "senderDocId": self.sender_doc_id,
            "receiverDocId": self.receiver_doc_id,
            "fromCode": self.from_code,
            "toCode": self.to_code,
            "title": self.title,
            "notation": self.notation,
            "messageType": self.message_type,
            "sentTime": self.created.strftime("%d/%m/%Y %H:%M:%S"),
            "receivedTime": self.updated.strftime("%d/%m/%Y %H:%M:%S") if self.status == "done" else "",
            "sendStatus": "done",
            "sendStatusDesc": "Đã gửi",
            "receiveStatus": self.status,
            "receiveStatusDesc": self.status_desc,
        }


@dataclass
class Faults:
    """Fault injection. Counters fire on the next N calls of an operation ("*" matches all)."""

    fail_next: dict[str, int] = field(default_factory=dict)  # answer 503 without doing anything
    lose_answer_next: dict[str, int] = field(default_factory=dict)  # do it, then answer 503
    timeout_next: dict[str, int] = field(default_factory=dict)  # answer after timeout_s
    timeout_s: float = 5.0
    error_rate: float = 0.0  # random 503s, seeded
    duplicate_list_entries: bool = False  # getReceivedEdocList lists every entry twice
    reserialise: bool = False  # rewrite edoc packets as the 2025 axis did
    redeliver_next: int = 0  # a packet acknowledged done comes back under a new docId
    escape_slashes: bool = True  # write "\\/" in JSON strings, as Java JSON libraries do
    seed: int = 7

    def take(self, counters: dict[str, int], operation: str) -> bool:
        for key in (operation, "*"):
            if counters.get(key, 0) > 0:
                counters[key] -= 1
                return True
        return False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AxisState:
    def __init__(self, data_dir: Path, *, axis_organ_id: str = "001.00.20.TT2") -> None:
        self.data_dir = data_dir
        self.packets_dir = data_dir / "packets"
        self.packets_dir.mkdir(parents=True, exist_ok=True)
        self.axis_organ_id = axis_organ_id
        self.systems: dict[str, str] = {}
        self.routes: dict[str, str] = {}  # level-1 group of a code (H99) -> systemId
        self.agencies: dict[str, SimAgency] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.sent: dict[str, list[str]] = {}  # sender DocId -> receiver docIds
        self.sender_of: dict[str, str] = {}  # sender DocId -> systemId
        self.faults = Faults()
        self.rng = random.Random(self.faults.seed)
        self.requests: dict[str, int] = {}

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)

    def add_system(self, system_id: str, secret: str, routes: list[str] | None = None) -> None:
        self.systems[system_id] = secret
        for route in routes or []:
            self.routes[route] = system_id

    def add_agency(self, agency: SimAgency) -> None:
        self.agencies[agency.code] = agency

    def system_of(self, code: str) -> str | None:
        agency = self.agencies.get(code)
        if agency is not None:
            return agency.system_id
        return self.routes.get(code.rsplit(".", 1)[-1])

    def new_packet_path(self) -> tuple[str, Path]:
        doc_id = str(uuid.uuid4())
        return doc_id, self.packets_dir / f"{doc_id}.edxml"

    def deliver(
        self,
        *,
        sender_doc_id: str,
        sender_system: str,
        message_type: str,
        from_code: str,
        to_code: str,
        packet: Path,
        title: str,
        notation: str,
    ) -> Delivery:
        receiver_system = self.system_of(to_code)
        assert receiver_system is not None
        delivery = Delivery(
            receiver_doc_id=str(uuid.uuid4()),
            sender_doc_id=sender_doc_id,
            message_type=message_type,
            from_code=from_code,
            to_code=to_code,
            sender_system=sender_system,
            receiver_system=receiver_system,
            packet=packet,
            title=title,
            notation=notation,
        )
        self.deliveries[delivery.receiver_doc_id] = delivery
        self.sent.setdefault(sender_doc_id, []).append(delivery.receiver_doc_id)
        self.sender_of[sender_doc_id] = sender_system
        return delivery

    def pending_for(self, system_id: str, message_type: str) -> list[Delivery]:
        return [
            d
            for d in self.deliveries.values()
            if d.receiver_system == system_id
            and d.message_type == message_type
            and d.status in ("pending", "processing")
        ]

    def acknowledge(self, delivery: Delivery, status: str) -> Delivery | None:
        """Record updateStatus; returns a re-delivered copy when that fault fires."""
        delivery.status = status
        delivery.status_desc = {"done": "Đã nhận", "fail": "Nhận lỗi", "processing": "Đang nhận"}.get(
            status, status
        )
        delivery.updated = datetime.now()
        delivery.acknowledged += 1
        if status == "done" and self.faults.redeliver_next > 0:
            self.faults.redeliver_next -= 1
            return self.deliver(
                sender_doc_id=delivery.sender_doc_id,
                sender_system=delivery.sender_system,
                message_type=delivery.message_type,
                from_code=delivery.from_code,
                to_code=delivery.to_code,
                packet=delivery.packet,
                title=delivery.title,
                notation=delivery.notation,
            )
        return None
