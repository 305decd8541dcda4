"""vanthu analytics service."""
