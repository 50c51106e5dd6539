"""Allow `python -m pbc.bench`."""

import sys

from pbc.bench import main

sys.exit(main())
