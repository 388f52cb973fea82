"""`python -m agent` is the `shain` command."""

import sys

from agent.cli.main import main

sys.exit(main())
