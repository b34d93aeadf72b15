"""The faultproof pytest plugin (being written)."""
