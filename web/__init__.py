"""Alur's web side: the Flask app (`web.app`), the REST API (`web.api`) and the `alur` command (`web.cli`).

Nothing is imported here: `alur` is in this package, and most of its commands need neither Flask
nor the pages.
"""
