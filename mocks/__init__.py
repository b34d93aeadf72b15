"""faultproof.mocks: the Flask mock, its server runner, the CLI and the pytest plugin.

Imports ``faultproof.contracts``; never the other way round.
"""
