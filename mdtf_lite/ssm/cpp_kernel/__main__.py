"""``python -m mdtf_lite.ssm.cpp_kernel``: build the fused C++ kernels for this checkout (see ``build.py``)."""

import sys

from mdtf_lite.ssm.cpp_kernel.build import main

sys.exit(main())
