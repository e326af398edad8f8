"""`python -m tierwise.server.cli`: the same entry point as the `tierwise` script."""

import sys

from tierwise.server.cli import main

sys.exit(main(sys.argv[1:]))
