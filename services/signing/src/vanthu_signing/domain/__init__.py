"""Pure rules of the signing service: no framework, no I/O."""
