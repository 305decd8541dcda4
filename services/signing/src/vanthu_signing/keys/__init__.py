"""Key access: PKCS#11 session pools, development key files, certificates and secrets."""
