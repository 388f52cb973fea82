"""`python -m agent` is the `shain` command."""

import sys

from agent.cli import main

sys.exit(main())
