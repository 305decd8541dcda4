"""PDF work on top of pyHanko and pypdf: checks, placement, stamps, PAdES signing, validation."""
