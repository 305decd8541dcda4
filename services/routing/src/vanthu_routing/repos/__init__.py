"""Queries of the routing service, one module per aggregate."""
