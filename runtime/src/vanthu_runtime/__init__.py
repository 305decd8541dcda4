"""vanthu's shared runtime kit.

Everything a service needs around its domain: settings, the database engine and
migrations, the transactional outbox and inbox, NATS/JetStream, object storage,
telemetry, authentication and the HTTP application shell. Services build these
in their composition root (`app.py`); nothing here creates a resource at import.
"""
