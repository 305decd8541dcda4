"""Per-service contract modules: events, jobs, RPCs, consumers and error codes."""
