"""pytest hooks for the whole checkout (``tests/`` and ``notebooks/``): every notebook cell is ``slow``.

nbval collects each cell of ``notebooks/**/*.ipynb`` as a test item; marking them here (a root conftest, so it
holds however pytest is called) lets ``pytest -m "not slow"`` (``make test-fast``) skip them all.
"""

import pytest


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
