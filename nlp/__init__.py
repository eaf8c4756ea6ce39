"""imr-nlp: IMR Final Determination Letters in, structured records out."""

__version__ = "0.1.0"
