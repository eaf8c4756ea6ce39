"""Corpus generation, corpus build and training entry points."""
