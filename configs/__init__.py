"""The project's data files (YAML, JSON, spaCy config, templates), shipped as package data so that
an installed wheel finds them with importlib.resources: use `nlp.config.configs_dir()`."""
