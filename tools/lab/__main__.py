"""python -m tools.lab (run from the repository root, as root)."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
