"""``kubectl sre``: the plugin's command line (``main``) over pure views of the objects."""

from sre_operator.kubectl.cli import main

__all__ = ["main"]
