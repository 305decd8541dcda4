"""`vanthu token-agent`: signs on the person's USB token, on their own computer.

Transport: HTTPS long-poll against the signing service (see docs/signing.md for why).
"""
