"""Pure domain of the analytics service: no framework imports."""
