"""faultproof: documented provider failures, on demand, and proof that a client survives them.

The parts live in ``faultproof.contracts`` (catalogues, schemas, the judge; no Flask) and
``faultproof.mocks`` (the mock, the CLI, the pytest plugin). Importing this package loads
neither.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("faultproof")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
