"""Chunks of lines appended to files by a Rust thread that never takes the GIL.

A Python writer thread must win the interpreter lock back after every blocking call,
and a busy event loop that lets go of it for an instant at each poll keeps winning it
first: the journal's old writer was starved for most of a second under load. This
one takes bytes (copied when handed over), appends them in order per file, closes or
gzips a file when told, and counts the lines written and failed.
"""

from oms._core import FileAppender

__all__ = ["FileAppender"]
