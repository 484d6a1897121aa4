"""Kepu (科普): one Markdown source for community health education.

The build is one pipeline, read top to bottom in :func:`builder.pipeline.build`:
load → validate → render → write.
"""

__version__ = "0.1.0"
