"""``python -m mdtf_lite <command> ...``: the front door (:mod:`mdtf_lite.cli`; ``mdtf-lite`` is the same)."""

import sys

from mdtf_lite.cli import main

sys.exit(main())
