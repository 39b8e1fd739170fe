"""The course tooling around the paper code: running the notebook series and recording its numbers
(``series``, ``record``), the exercises and their checkers (``exercises``, ``checks``), the training-run
browser (``browser``), JupyterLab (``lab``) and the pre-run estimate (``preflight``).

Nothing in ``models``, ``ssm``, ``data``, ``train`` or ``eval`` imports this package.
"""
