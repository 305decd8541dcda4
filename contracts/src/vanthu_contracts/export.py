"""Builds the JSON Schema files and the AsyncAPI document (pure: returns data, writes nothing)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, create_model

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.errors import ErrorBody, all_codes
from vanthu_contracts.spec import EventSpec, JobSpec, events, jobs, rpcs
from vanthu_contracts.streams import STREAMS, consumers

ASYNCAPI_VERSION = "3.0.0"
CONTRACT_VERSION = "1.0.0"


def _enveloped(name: str, payload: type[BaseModel], ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    model = create_model(name, __base__=Envelope[payload])  # type: ignore[valid-type]
    schema = model.model_json_schema(ref_template=ref_template)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def _camel(dotted: str) -> str:
    return "".join(part.capitalize() for chunk in dotted.split(".") for part in chunk.split("_"))


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for every event, job, RPC and the error body."""
    out: dict[str, dict[str, Any]] = {}
    for spec in events().values():
        out[f"events/{spec.type}.v{spec.version}.json"] = _enveloped(_camel(spec.type), spec.payload)
    for spec in jobs().values():
        out[f"jobs/{spec.type}.v{spec.version}.json"] = _enveloped(_camel(spec.type), spec.payload)
    for spec in rpcs().values():
        base = spec.subject.removeprefix("vanthu.rpc.")
        out[f"rpc/{base}.request.json"] = spec.request.model_json_schema()
        out[f"rpc/{base}.reply.json"] = spec.reply.model_json_schema()
    out["errors/error-body.json"] = ErrorBody.model_json_schema()
    out["errors/codes.json"] = {
        "codes": [
            {
                "code": c.code,
                "http_status": c.http_status,
                "message_vi": c.message_vi,
                "message_en": c.message_en,
            }
            for c in all_codes().values()
        ]
    }
    return out


def _message(name: str, spec: EventSpec | JobSpec) -> dict[str, Any]:
    return {
        "name": name,
        "title": spec.type,
        "summary": spec.summary,
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "properties": {
                "Nats-Msg-Id": {
                    "type": "string",
                    "description": "Envelope id (UUIDv7); JetStream de-duplication",
                },
                "traceparent": {"type": "string", "description": "W3C trace context"},
            },
        },
        "payload": {"$ref": f"#/components/schemas/{name}"},
    }


def asyncapi() -> dict[str, Any]:
    """One AsyncAPI 3.0 document for the whole platform."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}

    def add(spec: EventSpec | JobSpec, action_by: str, kind: str) -> None:
        name = _camel(spec.type)
        channel_id = spec.subject.replace(".", "_")
        messages[name] = _message(name, spec)
        schema = _enveloped(name, spec.payload, "#/components/schemas/{model}")
        defs = schema.pop("$defs", {})
        schema.pop("$schema", None)
        schemas[name] = schema
        for def_name, def_schema in defs.items():
            schemas.setdefault(def_name, def_schema)
        channels[channel_id] = {
            "address": spec.subject,
            "description": f"{kind} — {spec.summary}",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"send{name}"] = {
            "action": "send",
            "summary": f"{action_by} publishes {spec.type}",
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }

    for spec in events().values():
        add(spec, spec.service, "event")
    for spec in jobs().values():
        add(spec, "any service", "job")

    doc: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "vanthu platform events",
            "version": CONTRACT_VERSION,
            "description": (
                "Events, jobs and streams of vanthu. Every message is an Envelope whose id is also the "
                "Nats-Msg-Id header. Streams: "
                + ", ".join(f"{s.name} ({', '.join(s.subjects)}, {s.retention})" for s in STREAMS)
                + ". Durable consumers: "
                + ", ".join(f"{c.durable}@{c.stream}" for c in consumers())
                + "."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": {"host": "localhost:4222", "protocol": "nats", "description": "NATS with JetStream"}
        },
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {
            "messages": dict(sorted(messages.items())),
            "schemas": dict(sorted(schemas.items())),
        },
    }
    for spec in rpcs().values():
        base = _camel(spec.subject.removeprefix("vanthu.rpc."))
        channel_id = spec.subject.replace(".", "_")
        doc["components"]["schemas"][f"{base}Request"] = spec.request.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        doc["components"]["schemas"][f"{base}Reply"] = spec.reply.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        doc["channels"][channel_id] = {
            "address": spec.subject,
            "description": f"request/reply — {spec.summary}",
            "messages": {
                f"{base}Request": {"payload": {"$ref": f"#/components/schemas/{base}Request"}},
                f"{base}Reply": {"payload": {"$ref": f"#/components/schemas/{base}Reply"}},
            },
        }
    return doc


def _dumps(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered_files() -> dict[str, str]:
    """Relative path → file text of the whole export, byte-for-byte deterministic."""
    files = {name: _dumps(schema) for name, schema in json_schemas().items()}
    files["asyncapi.json"] = _dumps(asyncapi())
    return dict(sorted(files.items()))
