"""Built-in sub-commands of `vanthu`."""
