"""Pure domain of the registry service: no framework imports."""
