from imr.cli import main

raise SystemExit(main())
