"""Data preparation commands: ``python -m data_tools --help``."""
