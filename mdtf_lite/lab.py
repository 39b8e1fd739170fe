"""``python -m mdtf_lite.lab``: alias of ``python -m mdtf_lite.course.lab`` (the module moved there)."""
import sys

from mdtf_lite.course.lab import main

if __name__ == "__main__":
    sys.exit(main())
