"""The project's command line: render, promote, drift, reconcile (`python -m ops`)."""
