"""``python -m si_ref.validation.exercises``: check every exercise, one line each (see ``main``)."""

from si_ref.validation.exercises import main

raise SystemExit(main())
