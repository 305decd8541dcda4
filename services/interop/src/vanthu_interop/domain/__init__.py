"""Pure domain of the interop service: no framework imports."""
