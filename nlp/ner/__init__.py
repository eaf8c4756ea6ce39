"""The spaCy side: tokenizer, section detector, entity normalizer, pipeline assembly."""
