"""``python -m mdtf_lite.preflight``: alias of ``python -m mdtf_lite.course.preflight`` (the module moved there)."""
import sys

from mdtf_lite.course.preflight import main

if __name__ == "__main__":
    sys.exit(main())
