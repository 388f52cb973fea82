"""`python -m ui.tray`: the same as `shain tray`."""

from ui.tray.app import main

raise SystemExit(main())
