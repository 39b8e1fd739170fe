"""``python -m mdtf_lite.viz.browser``: alias of ``python -m mdtf_lite.course.browser`` (the module moved there)."""
import sys

from mdtf_lite.course.browser import main

if __name__ == "__main__":
    sys.exit(main())
