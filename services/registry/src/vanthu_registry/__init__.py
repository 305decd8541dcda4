"""vanthu registry service."""
