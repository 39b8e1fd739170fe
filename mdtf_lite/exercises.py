"""``python -m mdtf_lite.exercises``: alias of ``python -m mdtf_lite.course.exercises`` (the module moved there)."""
import sys

from mdtf_lite.course.exercises import main

if __name__ == "__main__":
    sys.exit(main())
