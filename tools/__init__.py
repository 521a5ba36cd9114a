"""The repository's tools (docs generators, netlab, the lab), importable as ``tools.<module>`` from the repository root.

A regular package on purpose: aerleon (a dependency of the boundary filters) installs a top-level ``tools`` package
of its own into site-packages, which would shadow a namespace package of this name.
"""
