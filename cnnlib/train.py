"""`python -m cnnlib.train`: the command-line trainer (`cnnlib.cli.train`).

Book: chapter 10.
"""

import sys

from .cli.train import main

if __name__ == "__main__":
    sys.exit(main())
