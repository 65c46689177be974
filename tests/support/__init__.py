"""Helpers that tests import. Fixtures live in ``tests/conftest.py``; no test imports a conftest."""
