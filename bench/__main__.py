"""`python -m bench [--quick | --smoke] [--only NAME] [--json PATH]`."""

import sys

from bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
