"""`python -m visualizer` does what `session-visualizer` does."""

import sys

from visualizer.cli import main

sys.exit(main())
