"""The fault script, `python -m webapp.faults` (see __main__.py), and what it shares with the
integration tests: real worker processes to kill (workers.py)."""
