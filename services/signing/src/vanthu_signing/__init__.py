"""vanthu signing service."""
