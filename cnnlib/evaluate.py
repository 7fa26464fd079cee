"""`python -m cnnlib.evaluate`: scores a saved model (`cnnlib.cli.evaluate`).

Book: chapter 10.
"""

import sys

from .cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
