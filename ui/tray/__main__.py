"""`python -m ui.tray`: the same as `shain tray`."""

from ui.tray.main import main

raise SystemExit(main())
