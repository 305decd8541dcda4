"""Use cases of the routing service, one module per area."""
