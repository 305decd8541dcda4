"""REST adapters of the routing service: translate HTTP to use cases, nothing more."""
