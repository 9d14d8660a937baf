"""The command line: serve the page, list and run scenarios, render traces in the terminal.

A front end like the web: it may import every layer below the app, and the app itself.
"""

from visualizer.cli.main import main

__all__ = ["main"]
