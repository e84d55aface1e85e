"""``python -m validation.exercises``: check every exercise, one line each (see ``main``)."""

from validation.exercises import main

raise SystemExit(main())
