"""vanthu interop service."""
