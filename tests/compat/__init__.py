"""Compatibility with the stock MLflow client and server, over real loopback ports."""
