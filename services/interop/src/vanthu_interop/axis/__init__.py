"""The national document axis: the VNPT SDK protocol (signing, client)."""
