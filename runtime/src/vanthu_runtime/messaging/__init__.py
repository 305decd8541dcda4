"""NATS/JetStream plumbing: connection, provisioning, outbox, inbox, relay, consumers."""
