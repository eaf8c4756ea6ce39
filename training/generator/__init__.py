"""Synthetic IMR letter generator with exact gold annotations (see docs/CORPUS.md)."""
from .case import CATEGORIES, DECISIONS, LAYOUTS, RATIONALES, deciding_rule
from .kb import Holdout, KB, choose_holdout, load_kb
from .letter import generate_letter

__all__ = ["CATEGORIES", "DECISIONS", "LAYOUTS", "RATIONALES", "Holdout", "KB", "choose_holdout",
           "deciding_rule", "load_kb", "generate_letter"]
