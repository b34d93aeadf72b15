"""Serving the mock: the servers ``faultproof serve`` runs, the in-process runner, and the
executors that make transport faults on a real connection."""
