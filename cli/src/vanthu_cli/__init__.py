"""vanthu operator CLI."""
