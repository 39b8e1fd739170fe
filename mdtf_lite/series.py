"""``python -m mdtf_lite.series``: alias of ``python -m mdtf_lite.course.series`` (the module moved there)."""
import sys

from mdtf_lite.course.series import main

if __name__ == "__main__":
    sys.exit(main())
