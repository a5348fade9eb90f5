"""Thin command-line entry points; the ``grasp`` console script dispatches to them."""
