"""Build configs/lexicons/ordinary_words.txt: the most frequent lower-case English words.

The NER's entity filter drops a DRUG guess of the model that the drug lexicon does not know when
its words are all ordinary English words ("prone", "control", "associate", "titrate": on real
and written letters the model's out-of-lexicon guesses are mostly such words). Every name of the
drug-named-entity-recognition dictionary is taken out, so a drug our lexicon lacks ("ketamine",
"phentermine") is never an ordinary word. Frequencies come from spaCy's English
lexeme probabilities in `spacy-lookups-data` (MIT), needed only to rebuild the list:

    pip install spacy-lookups-data && python -m training.build_ordinary_words
"""
from __future__ import annotations

import argparse
import gzip
import json
from importlib.resources import files

from nlp.config import configs_dir
from nlp.lexicon import get_lexicon

HEADER = """# The {n} most frequent lower-case alphabetic English words (spaCy's en_lexeme_prob table,
# spacy-lookups-data {version}, MIT), minus the surface forms of the drug lexicon and every name
# of the drug-named-entity-recognition dictionary.
# Built by training/build_ordinary_words.py; read by the NER's imr_entity_filter.
"""


def build(top: int = 65000) -> list[str]:
    from importlib.metadata import version

    table = files("spacy_lookups_data") / "data" / "en_lexeme_prob.json.gz"
    probs = json.loads(gzip.decompress(table.read_bytes()))
    words = [w for w, _ in sorted(probs.items(), key=lambda kv: -kv[1]) if w.isalpha() and w.islower()][:top]
    from training.build_drug_lexicon import load_package_dictionary

    drugs = {f.lower() for f in get_lexicon().surface_forms()}
    drugs |= {name.lower() for name in load_package_dictionary()["drug_variant_to_canonical"]}
    kept = sorted(w for w in words if w not in drugs)
    out = configs_dir() / "lexicons" / "ordinary_words.txt"
    out.write_text(HEADER.format(n=top, version=version("spacy-lookups-data")) + "\n".join(kept) + "\n",
                   encoding="utf-8")
    return kept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--top", type=int, default=65000, help="how many of the most frequent words")
    print(f"{len(build(ap.parse_args().top))} words")


if __name__ == "__main__":
    main()
