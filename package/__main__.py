"""``python -m faultproof``: the same command as the ``faultproof`` console script."""

from faultproof.mocks.cli import main

main()
