"""vanthu routing service."""
