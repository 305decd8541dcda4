"""`vanthu` sub-commands contributed by interop: edxml, axis-sim, interop."""
