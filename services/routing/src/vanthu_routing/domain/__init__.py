"""Pure domain of the routing service: no framework imports."""
