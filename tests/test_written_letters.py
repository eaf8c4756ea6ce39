"""The bundled models on the independently written letters (examples/written/README.md):
three hundred and forty-six writer sessions that never saw this repository wrote 2,764 letters in the three layouts with gold.
develop/ (writers w1, w2) was read and its errors fixed; heldback/ (w3, w4) was not read until
its two clean scorings were spent, then developed on in session 13, as was fresh/ (w5, w6),
written after session 12's fixes and scored once clean first; sealed/ (w7-w10) was scored once
with session 13's final bundle and developed on in session 14; blind/ (w11-w14) was scored with
session 14's bundle and developed on in session 15; closed/ (w15-w18) was scored with session 15's
bundle and then developed on; hidden/ (w19-w22) was scored with session 15's final bundle, then
developed on in session 16, as was vault/ (w23-w26) after its clean scoring; locked/ (w27-w30)
was scored with session 16's final bundle and never read; crypt/ to shed/ (w31-w46, session 17)
loft/ (w47-w50, session 18), barn/, mill/, yard/ and dock/ (w51-w66, session 19), pier/ and quay/
(w67-w74, session 20), wharf/ and jetty/ (w75-w82, session 21), berth/, slip/, buoy/, keel/, hull/,
mast/, helm/, rudder/, sail/ and oar/ (w83-w122, session 22), anchor/, cove/, reef/, shoal/,
tide/, surf/, bay/, inlet/, cape/, lagoon/, fjord/ and delta/ (w123-w170, session 23), strait/, sound/, channel/, harbor/,
estuary/, bight/, gulf/ and strand/ (w171-w202, session 24), basin/, reach/, marsh/, ford/, dune/ and cliff/ (w203-w226, session 25),
mesa/, ridge/, bluff/, knoll/, tor/, vale/, crag/, glen/, moor/, fell/, heath/, dell/, scree/ and combe/
(w227-w282, session 26), tarn/, cairn/, fen/, brae/, moss/, holt/, knap/ and wold/ (w283-w314, session 27), beck/, ghyll/, rill/, sike/, mere/, scar/, gill/ and holm/ (w315-w346, session 28),
brook/, weir/, lynn/, ghat/, loch/, firth/, kettle/, bourn/, gully/ and rhyne/ (w347-w386, session 29),
dingle/, cleugh/, clough/, slack/, grike/ and sough/ (w387-w410, session 30), swale/, carr/, hause/, nab/, hurst/,
rigg/, sill/, howe/, toft/, garth/, dene/, hagg/, wyke/, cleeve/, lode/ and rake/ (w411-w474, session 31), hope/,
shaw/, stell/, shiel/, laithe/, shippon/, byre/ and fold/ (w475-w506, session 32), croft/, bothy/, haugh/, lea/,
steading/, intake/, garner/ and shieling/ (w507-w538, session 33), linhay/, hemmel/, grange/, oast/, cote/,
wynd/, brough/, folly/, staddle/ and hayloft/ (w539-w578, session 34), granary/, dairy/, smithy/, stable/, pinfold/, malting/,
hovel/ and ricklet/ (w579-w610, session 35) were scored clean the same way (configs/written_sets.yaml says
which sets are spent; the read heads and the count role model train on the spent ones).
Floors sit under the figures measured on 2026-12-05 (docs/NER.md, docs/CLASSIFIER.md), less about
0.02."""
from __future__ import annotations

import functools
import json

import pytest

from conftest import ROOT
from models.bundle import load_scorer
from nlp.reading import iter_documents
from training.written_figures import set_figures

WRITTEN = ROOT / "examples" / "written"
FLOORS = {
    "develop": {"DRUG": 0.98, "SESSION_COUNT": 0.95, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.97, "found": 1.0,
                "stated_decision": 1.0, "request": 0.97, "category": 0.97, "citations": 0.95, "read_decision": 0.97,
                "rationale": 0.64, "format": 1.0},
    "heldback": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.93, "micro": 0.95, "role": 0.91, "found": 1.0,
                 "stated_decision": 1.0, "request": 0.97, "category": 0.97, "citations": 0.71, "read_decision": 0.97,
                 "rationale": 0.60, "format": 0.98},
    # written after every change of session 12 and scored once (the clean figures of that bundle:
    # docs/NER.md); opened for development in session 13, its gold corrected where it broke SPEC
    # (GOLD_CORRECTIONS.md)
    "fresh": {"DRUG": 0.97, "SESSION_COUNT": 0.94, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.95, "found": 1.0,
              "stated_decision": 1.0, "request": 0.97, "category": 0.95, "citations": 0.91, "read_decision": 0.97,
              "rationale": 0.75, "format": 1.0},
    # w7-w10, written during session 13 and scored once with its final bundle (README.md)
    # (developed on in session 14: the count and role rules; SESSION_COUNT is capped by two writers'
    # conventions, GOLD_CORRECTIONS.md)
    "sealed": {"DRUG": 0.96, "SESSION_COUNT": 0.92, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.93, "found": 1.0,
               "stated_decision": 1.0, "request": 0.97, "category": 0.95, "citations": 0.82, "read_decision": 0.95,
               "rationale": 0.67, "format": 1.0},
    # w11-w14, written during session 14 and scored once with the bundle it found and once with its
    # own (README.md; its rationale a second time after the written-letter training was dropped);
    # developed on in session 15 (layout, fields, citations, roles, counts)
    "blind": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.94, "micro": 0.96, "role": 0.95, "found": 1.0,
              "stated_decision": 1.0, "request": 0.97, "category": 0.97, "citations": 0.84, "read_decision": 0.97,
              "rationale": 0.85, "format": 0.98},
    # w15-w18, written during session 15 and scored once with the bundle it found and once with its
    # own (README.md); then developed on in session 15 (citations, roles, drug names); rationale
    # 0.764 -> 0.730 with session 16's release (3 of 89 items; all written letters 0.729 -> 0.741)
    "closed": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.94, "micro": 0.96, "role": 0.94, "found": 1.0,
               "stated_decision": 0.97, "request": 0.95, "category": 0.96, "citations": 0.94, "read_decision": 0.98,
               "rationale": 0.71, "format": 0.98},
    # w19-w22, written during session 15 and scored once with the bundle it found and once with its
    # own (README.md); developed on in session 16 (item fields, count roles, citations, counts)
    "hidden": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.95, "found": 1.0,
               "stated_decision": 0.98, "request": 0.94, "category": 0.94, "citations": 0.95, "read_decision": 0.97,
               "rationale": 0.66, "format": 0.98},
    # w23-w26, written during session 16 and scored once with the bundle it found and once with its
    # own (README.md); then developed on in session 16 (roles, citations, fields, counts)
    "vault": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.93, "found": 1.0,
              "stated_decision": 0.98, "request": 0.97, "category": 0.96, "citations": 0.90, "read_decision": 0.98,
              "rationale": 0.73, "format": 0.98},
    # w27-w30, written during session 16 and scored once with the bundle before its development on
    # vault/ and once with its final bundle (README.md); never read
    # (developed on in session 17: item fields and citations; the count role model trains on it)
    "locked": {"DRUG": 0.98, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.97, "found": 1.0,
               "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.96, "read_decision": 0.97,
               "rationale": 0.76, "format": 0.98},
    # w31-w34, written during session 17 and scored once with the bundle it found and once with its
    # final bundle (README.md: micro 0.941, requests 0.908); then developed on in session 17 (layout
    # labels, counts, citations; the count role model trains on it)
    "crypt": {"DRUG": 0.98, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.98, "found": 1.0,
              "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.90, "read_decision": 0.98,
              "rationale": 0.77, "format": 0.98},
    # w35-w38, written during session 17 and scored once with the bundle before its development on
    # crypt/ and once with the bundle of that moment (README.md: micro 0.971, roles 0.983); then
    # developed on in session 17 (counts, citations; the count role model trains on it)
    "cellar": {"DRUG": 0.98, "SESSION_COUNT": 0.92, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.98, "found": 1.0,
               "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.90, "read_decision": 0.98,
               "rationale": 0.68, "format": 0.98},
    # w39-w42, written during session 17 and scored once with the bundle before its development on
    # cellar/ and once with its final bundle (README.md: micro 0.970); then developed on in session 17
    # (specialties, counts, fields; the count role model trains on it)
    "attic": {"DRUG": 0.98, "SESSION_COUNT": 0.94, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.97, "found": 1.0,
              "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.90, "read_decision": 0.98,
              "rationale": 0.67, "format": 0.98},
    # w43-w46, written during session 17 and scored once with the bundle before its development on
    # cellar/ and attic/ and once with its final bundle (README.md); never read
    "shed": {"DRUG": 0.98, "SESSION_COUNT": 0.97, "GUIDELINE": 0.98, "micro": 0.98, "role": 0.95, "found": 0.98,
             "stated_decision": 0.98, "request": 0.97, "category": 0.98, "citations": 0.94, "read_decision": 0.98,
             "rationale": 0.70, "format": 0.98},
    # w47-w50, written during session 18 and scored once with the bundle it found and once with its
    # final bundle (README.md: rationale 0.733 -> 0.900 with the read heads trained on the spent
    # written sets); never read
    "loft": {"DRUG": 0.95, "SESSION_COUNT": 0.94, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.96, "found": 0.97,
             "stated_decision": 0.97, "request": 0.95, "category": 0.96, "citations": 0.89, "read_decision": 0.96,
             "rationale": 0.88, "format": 0.98},
    # w51-w54 and w55-w58, written during session 19 and scored once with the bundle it found and
    # once with its release before they were trained on (README.md); never read
    "barn": {"DRUG": 0.96, "SESSION_COUNT": 0.95, "GUIDELINE": 0.97, "micro": 0.96, "role": 0.94, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.95, "read_decision": 0.98,
             "rationale": 0.83, "format": 0.98},
    "mill": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.96, "citations": 0.92, "read_decision": 0.95,
             "rationale": 0.78, "format": 0.98},
    # w59-w62 and w63-w66, written during session 19 and scored once with the release of 0a3d5e8
    # (README.md); never read before that scoring. yard/ then read: one writer's extraction form
    # (nlp/textnorm.py `_interleaving`), micro 0.960 -> 0.994, stated decision 0.920 -> 1.000
    "yard": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.97, "category": 0.97, "citations": 0.97, "read_decision": 0.98,
             "rationale": 0.77, "format": 0.98},
    "dock": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.94, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.98, "read_decision": 0.98,
             "rationale": 0.81, "format": 0.98},
    # w67-w70 and w71-w74, written during session 20 and scored once with release E of session 19
    # (README.md); never read
    "pier": {"DRUG": 0.98, "SESSION_COUNT": 0.98, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.96, "category": 0.98, "citations": 0.95, "read_decision": 0.98,
             "rationale": 0.82, "format": 0.98},
    "quay": {"DRUG": 0.98, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.90, "read_decision": 0.97,
             "rationale": 0.80, "format": 0.98},
    # w75-w78 and w79-w82, written during session 21 and scored once with release F of session 20
    # (README.md)
    "wharf": {"DRUG": 0.96, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.96, "found": 0.98,
              "stated_decision": 0.98, "request": 0.96, "category": 0.97, "citations": 0.92, "read_decision": 0.98,
              "rationale": 0.85, "format": 0.98},
    "jetty": {"DRUG": 0.94, "SESSION_COUNT": 0.89, "GUIDELINE": 0.92, "micro": 0.92, "role": 0.95, "found": 0.98,
              "stated_decision": 0.98, "request": 0.95, "category": 0.93, "citations": 0.76, "read_decision": 0.98,
              "rationale": 0.82, "format": 0.98},
    # w83-w86 and w87-w90, written during session 22 and scored once with release F's classifier and
    # session 21's NER (README.md)
    "berth": {"DRUG": 0.94, "SESSION_COUNT": 0.93, "GUIDELINE": 0.87, "micro": 0.91, "role": 0.95, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.97, "citations": 0.80, "read_decision": 0.97,
              "rationale": 0.83, "format": 0.98},
    "slip": {"DRUG": 0.97, "SESSION_COUNT": 0.90, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.95, "found": 0.98,
             "stated_decision": 0.98, "request": 0.97, "category": 0.98, "citations": 0.95, "read_decision": 0.98,
             "rationale": 0.81, "format": 0.98},
    # w91-w94 and w95-w98, written during session 22 and scored once with the NER of bb4cf82 (README.md);
    # keel/ then read: two notices whose items no heading form found (nlp/layout.py
    # `item_headings_before_field`), micro 0.936 -> 0.993, items found 0.945 -> 1.000
    "buoy": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.94, "micro": 0.95, "role": 0.92, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.97, "citations": 0.88, "read_decision": 0.98,
             "rationale": 0.81, "format": 0.98},
    "keel": {"DRUG": 0.98, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.96, "citations": 0.87, "read_decision": 0.94,
             "rationale": 0.79, "format": 0.98},
    # w99-w102 and w103-w106, written during session 22 and scored once with the NER of 3bce453 (README.md)
    "hull": {"DRUG": 0.95, "SESSION_COUNT": 0.96, "GUIDELINE": 0.93, "micro": 0.95, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.94, "category": 0.98, "citations": 0.86, "read_decision": 0.98,
             "rationale": 0.90, "format": 0.98},
    "mast": {"DRUG": 0.91, "SESSION_COUNT": 0.93, "GUIDELINE": 0.90, "micro": 0.91, "role": 0.95, "found": 0.98,
             "stated_decision": 0.98, "request": 0.96, "category": 0.88, "citations": 0.80, "read_decision": 0.98,
             "rationale": 0.85, "format": 0.98},
    # w107-w110 and w111-w114, written during session 22 and scored once with the NER of 301d4ec (README.md)
    "helm": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.95, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.97, "citations": 0.92, "read_decision": 0.98,
             "rationale": 0.92, "format": 0.98},
    "rudder": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.97, "found": 0.98,
               "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.87, "read_decision": 0.98,
               "rationale": 0.82, "format": 0.98},
    # w115-w118 and w119-w122, written during session 22 and scored once with the NER of 7e44c61 (README.md)
    "sail": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.93, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.97, "citations": 0.93, "read_decision": 0.97,
             "rationale": 0.86, "format": 0.98},
    "oar": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.93, "micro": 0.95, "role": 0.96, "found": 0.98,
            "stated_decision": 0.98, "request": 0.94, "category": 0.88, "citations": 0.87, "read_decision": 0.98,
            "rationale": 0.82, "format": 0.98},
    # w123-w126 and w127-w130, written during session 23 and scored once with the bundle of 6145441
    # (README.md); the floors under the figures of the session's final bundle, which no letter of them shaped
    "anchor": {"DRUG": 0.95, "SESSION_COUNT": 0.95, "GUIDELINE": 0.85, "micro": 0.91, "role": 0.96, "found": 0.98,
               "stated_decision": 0.98, "request": 0.98, "category": 0.95, "citations": 0.67, "read_decision": 0.98,
               "rationale": 0.82, "format": 0.98},
    "cove": {"DRUG": 0.95, "SESSION_COUNT": 0.95, "GUIDELINE": 0.94, "micro": 0.95, "role": 0.94, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.94, "citations": 0.87, "read_decision": 0.98,
             "rationale": 0.85, "format": 0.98},
    # w131-w134 and w135-w138, written during session 23 and scored once with the bundle of 501b26d
    "reef": {"DRUG": 0.94, "SESSION_COUNT": 0.95, "GUIDELINE": 0.92, "micro": 0.94, "role": 0.97, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.94, "citations": 0.81, "read_decision": 0.98,
             "rationale": 0.92, "format": 0.98},
    "shoal": {"DRUG": 0.96, "SESSION_COUNT": 0.95, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.94, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.95, "citations": 0.94, "read_decision": 0.98,
              "rationale": 0.90, "format": 0.98},
    # w139-w142 and w143-w146, written during session 23 and scored once with the bundle of 427e417
    "tide": {"DRUG": 0.96, "SESSION_COUNT": 0.96, "GUIDELINE": 0.92, "micro": 0.94, "role": 0.95, "found": 0.98,
             "stated_decision": 0.98, "request": 0.95, "category": 0.93, "citations": 0.80, "read_decision": 0.98,
             "rationale": 0.79, "format": 0.98},
    "surf": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.95, "micro": 0.97, "role": 0.94, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.93, "read_decision": 0.98,
             "rationale": 0.84, "format": 0.98},
    # w147-w150 and w151-w154, written during session 23 and scored once with the bundle of 9606d80
    "bay": {"DRUG": 0.95, "SESSION_COUNT": 0.95, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.94, "found": 0.98,
            "stated_decision": 0.98, "request": 0.98, "category": 0.94, "citations": 0.93, "read_decision": 0.98,
            "rationale": 0.81, "format": 0.98},
    "inlet": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.92, "found": 0.98,
              "stated_decision": 0.98, "request": 0.96, "category": 0.94, "citations": 0.94, "read_decision": 0.98,
              "rationale": 0.86, "format": 0.98},
    # w155-w158 and w159-w162, written during session 23 and scored once with the bundle of d0f84c5,
    # the session's final one
    "cape": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.92, "citations": 0.95, "read_decision": 0.98,
             # (clean 0.911; release G's conclusion reading 0.889, one item of 90 below F's 0.900)
             "rationale": 0.87, "format": 0.98},
    "lagoon": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.97, "found": 0.98,
               "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.93, "read_decision": 0.95,
               "rationale": 0.75, "format": 0.98},
    # w163-w166 and w167-w170, written during session 23 and scored once with the bundle of c869c35
    "fjord": {"DRUG": 0.97, "SESSION_COUNT": 0.90, "GUIDELINE": 0.91, "micro": 0.93, "role": 0.96, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.95, "citations": 0.87, "read_decision": 0.98,
              "rationale": 0.80, "format": 0.98},
    "delta": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.94, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.93, "citations": 0.96, "read_decision": 0.96,
              "rationale": 0.78, "format": 0.98},
    # w171-w174 and w175-w178, written during session 24 and scored once with the bundle of 43eaf83
    "strait": {"DRUG": 0.96, "SESSION_COUNT": 0.91, "GUIDELINE": 0.95, "micro": 0.94, "role": 0.94, "found": 0.98,
               "stated_decision": 0.98, "request": 0.98, "category": 0.94, "citations": 0.94, "read_decision": 0.98,
               "rationale": 0.76, "format": 0.98},
    "sound": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.94, "found": 0.98,
              "stated_decision": 0.98, "request": 0.97, "category": 0.98, "citations": 0.91, "read_decision": 0.98,
              "rationale": 0.83, "format": 0.98},
    # w179-w182 and w183-w186, written during session 24 and scored once with the bundle of 15e9676
    "channel": {"DRUG": 0.94, "SESSION_COUNT": 0.94, "GUIDELINE": 0.91, "micro": 0.93, "role": 0.94, "found": 0.98,
                "stated_decision": 0.98, "request": 0.98, "category": 0.92, "citations": 0.83, "read_decision": 0.98,
                "rationale": 0.70, "format": 0.98},
    "harbor": {"DRUG": 0.95, "SESSION_COUNT": 0.95, "GUIDELINE": 0.92, "micro": 0.94, "role": 0.96, "found": 0.95,
               "stated_decision": 0.95, "request": 0.94, "category": 0.85, "citations": 0.92, "read_decision": 0.94,
               "rationale": 0.78, "format": 0.98},
    # w187-w190 and w191-w194, written during session 24 and scored once with the bundle of f33b1bc (release G)
    "estuary": {"DRUG": 0.98, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 0.98,
                "stated_decision": 0.98, "request": 0.98, "category": 0.96, "citations": 0.96, "read_decision": 0.98,
                "rationale": 0.89, "format": 0.98},
    "bight": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.97, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.96, "citations": 0.94, "read_decision": 0.98,
              "rationale": 0.85, "format": 0.98},
    # w195-w198 and w199-w202, written during session 24 and scored once with the bundle of 7ed8bc8 (release G)
    "gulf": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.93, "citations": 0.96, "read_decision": 0.98,
             "rationale": 0.80, "format": 0.98},
    "strand": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.97, "found": 0.98,
               "stated_decision": 0.98, "request": 0.93, "category": 0.97, "citations": 0.97, "read_decision": 0.98,
               "rationale": 0.84, "format": 0.98},
    # w203-w206 and w207-w210, written during session 25 and scored once with the bundle of 99265a0 (release G)
    "basin": {"DRUG": 0.95, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.96, "found": 0.98,
              "stated_decision": 0.98, "request": 0.97, "category": 0.98, "citations": 0.97, "read_decision": 0.98,
              "rationale": 0.90, "format": 0.98},
    "reach": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.97, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.98, "read_decision": 0.98,
              "rationale": 0.87, "format": 0.98},
    # w211-w214 and w215-w218, written during session 25 and scored once with the bundle of b21b5f7 (release G);
    # marsh/'s floors sit under its figures after the notice forms its clean scoring showed were read
    # (three of w212's notices had given no items)
    "marsh": {"DRUG": 0.92, "SESSION_COUNT": 0.90, "GUIDELINE": 0.93, "micro": 0.92, "role": 0.97, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.92, "read_decision": 0.98,
              "rationale": 0.90, "format": 0.98},
    "ford": {"DRUG": 0.98, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.93, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.96, "read_decision": 0.98,
             "rationale": 0.81, "format": 0.98},
    # w219-w222 and w223-w226, written during session 25 and scored once with the bundle of a9b1d78 (release G)
    "dune": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.94, "micro": 0.96, "role": 0.94, "found": 0.98,
             "stated_decision": 0.98, "request": 0.97, "category": 0.98, "citations": 0.95, "read_decision": 0.98,
             "rationale": 0.90, "format": 0.98},
    "cliff": {"DRUG": 0.98, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.97, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.94, "read_decision": 0.98,
              "rationale": 0.92, "format": 0.98},
    # w227-w230 and w231-w234, written during session 26 and scored once with the bundle of 0193b76 (release G)
    "mesa": {"DRUG": 0.96, "SESSION_COUNT": 0.92, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.97, "found": 0.96,
             "stated_decision": 0.96, "request": 0.96, "category": 0.96, "citations": 0.91, "read_decision": 0.95,
             "rationale": 0.87, "format": 0.98},
    "ridge": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.95, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.95, "citations": 0.94, "read_decision": 0.98,
              "rationale": 0.80, "format": 0.98},
    # w235-w238 and w239-w242, written during session 26 and scored once with the bundle of f99314f (release G)
    "bluff": {"DRUG": 0.92, "SESSION_COUNT": 0.92, "GUIDELINE": 0.93, "micro": 0.92, "role": 0.97, "found": 0.92,
              "stated_decision": 0.92, "request": 0.92, "category": 0.92, "citations": 0.86, "read_decision": 0.92,
              "rationale": 0.89, "format": 0.98},
    "knoll": {"DRUG": 0.95, "SESSION_COUNT": 0.94, "GUIDELINE": 0.94, "micro": 0.94, "role": 0.96, "found": 0.94,
              "stated_decision": 0.94, "request": 0.94, "category": 0.94, "citations": 0.91, "read_decision": 0.94,
              "rationale": 0.87, "format": 0.98},
    # w243-w246 and w247-w250, written during session 26 and scored once with the bundle of 6545a55 (release G)
    "tor": {"DRUG": 0.98, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 0.98,
            "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.95, "read_decision": 0.96,
            "rationale": 0.89, "format": 0.98},
    "vale": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.92, "read_decision": 0.98,
             "rationale": 0.88, "format": 0.98},
    # w251-w254 and w255-w258, written during session 26 and scored once with the bundle of b47410a (release G);
    # crag/'s floors sit under its figures after the 2015 form its clean scoring showed was read (four of
    # w252's letters had given no items)
    "crag": {"DRUG": 0.95, "SESSION_COUNT": 0.93, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.85, "read_decision": 0.96,
             "rationale": 0.85, "format": 0.98},
    "glen": {"DRUG": 0.98, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 0.98,
             "stated_decision": 0.98, "request": 0.97, "category": 0.98, "citations": 0.96, "read_decision": 0.98,
             "rationale": 0.90, "format": 0.98},
    # w259-w262 and w263-w266, written during session 26 and scored once with the bundle of 81cf4cd (release G);
    # moor/'s floors sit under its figures after the 2015 statements its clean scoring showed were read (w259's
    # five 2015 letters had given no items)
    "moor": {"DRUG": 0.96, "SESSION_COUNT": 0.95, "GUIDELINE": 0.94, "micro": 0.95, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.93, "read_decision": 0.98,
             "rationale": 0.91, "format": 0.98},
    "fell": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.94, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.98, "read_decision": 0.98,
             "rationale": 0.89, "format": 0.98},
    # w267-w270 and w271-w274, written during session 26 and scored once with the bundle of 91bb76a (release G);
    # heath/'s floors sit under its figures after the forms its clean scoring showed were read
    "heath": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.94, "found": 0.96,
              "stated_decision": 0.96, "request": 0.95, "category": 0.96, "citations": 0.92, "read_decision": 0.96,
              "rationale": 0.87, "format": 0.98},
    "dell": {"DRUG": 0.97, "SESSION_COUNT": 0.94, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.94, "found": 0.98,
             "stated_decision": 0.98, "request": 0.96, "category": 0.98, "citations": 0.91, "read_decision": 0.98,
             "rationale": 0.90, "format": 0.98},
    # w275-w278 and w279-w282, written during session 26 and scored once with the bundle of 3bae782 (release G);
    # scree/'s floors sit under its figures after w277's headings and w276's labels were read, and (session 27)
    # w276's freely worded determinations and field labels
    "scree": {"DRUG": 0.92, "SESSION_COUNT": 0.96, "GUIDELINE": 0.91, "micro": 0.93, "role": 0.94, "found": 0.95,
              "stated_decision": 0.93, "request": 0.91, "category": 0.94, "citations": 0.83, "read_decision": 0.92,
              "rationale": 0.82, "format": 0.98},
    "combe": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.96, "citations": 0.93, "read_decision": 0.98,
              "rationale": 0.85, "format": 0.98},
    # w283-w286 and w287-w290, written during session 27 and scored once with the bundle of f438566 (release G);
    # the floors sit under their figures after the forms tarn/'s clean scoring showed were read
    "tarn": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.97, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.98, "citations": 0.92, "read_decision": 0.98,
             "rationale": 0.83, "format": 0.98},
    "cairn": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.95, "found": 0.98,
              "stated_decision": 0.98, "request": 0.98, "category": 0.97, "citations": 0.95, "read_decision": 0.98,
              "rationale": 0.84, "format": 0.98},
    # w291-w294 and w295-w298, written during session 27 and scored once with the bundle of 6719b93 (release G);
    # fen/'s floors sit under its figures after w294's 2015 items (the determination last) were read
    "fen": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.94, "found": 0.98,
            "stated_decision": 0.98, "request": 0.98, "category": 0.94, "citations": 0.91, "read_decision": 0.98,
            "rationale": 0.86, "format": 0.98},
    "brae": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.96, "citations": 0.93, "read_decision": 0.98,
             "rationale": 0.91, "format": 0.98},
    # w299-w302 and w303-w306, written during session 27 and scored once with the bundle of 32cc85b (release G);
    # moss/'s floors sit under its figures after w301's subheadings and w300's "Request for X:" were read
    "moss": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.96, "citations": 0.96, "read_decision": 0.98,
             "rationale": 0.88, "format": 0.98},
    "holt": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.92, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.96, "citations": 0.94, "read_decision": 0.98,
             "rationale": 0.90, "format": 0.98},
    # w307-w310 and w311-w314, written during session 27 and scored once with the bundle of 4a06e0f (release G);
    # knap/'s floors sit under its figures after w307's page breaks and w310's decisions in parentheses were read
    "knap": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.94, "micro": 0.96, "role": 0.96, "found": 0.96,
             "stated_decision": 0.96, "request": 0.96, "category": 0.96, "citations": 0.95, "read_decision": 0.95,
             "rationale": 0.90, "format": 0.98},
    "wold": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 0.98,
             "stated_decision": 0.98, "request": 0.98, "category": 0.96, "citations": 0.93, "read_decision": 0.98,
             "rationale": 0.86, "format": 0.98},
    # w315-w322, written during session 28 and scored once clean (README.md); floors under the figures
    # after their misses were read (a label of the claims administrator's field, programs' weeks with
    # their hours, citations cut at an unopened parenthesis)
    "beck": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.96, "found": 1.0,
             "stated_decision": 1.0, "request": 0.96, "category": 0.97, "citations": 0.98, "read_decision": 0.98,
             "rationale": 0.83, "format": 1.0},
    "ghyll": {"DRUG": 0.98, "SESSION_COUNT": 0.95, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.95, "found": 1.0,
              "stated_decision": 1.0, "request": 0.97, "category": 0.98, "citations": 0.93, "read_decision": 0.98,
              "rationale": 0.86, "format": 1.0},
    # w323-w330, written during session 28 and scored once clean (README.md); floors under the figures after
    # their misses were read (ASA, a label's "Issue(s)", parentheses a citation opened)
    "rill": {"DRUG": 0.98, "SESSION_COUNT": 0.97, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.94, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.98, "read_decision": 0.98,
             "rationale": 0.84, "format": 1.0},
    "sike": {"DRUG": 0.98, "SESSION_COUNT": 0.92, "GUIDELINE": 0.97, "micro": 0.96, "role": 0.96, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.96, "read_decision": 0.98,
             "rationale": 0.83, "format": 1.0},
    # w331-w338, written during session 28 and scored once clean (README.md); floors under the figures after
    # their misses were read (the regulation's sections inside a citation, notice items headed by their
    # determination, the utilization review's sentence in a field naming both sides)
    "mere": {"DRUG": 0.98, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.98, "read_decision": 0.98,
             "rationale": 0.82, "format": 1.0},
    "scar": {"DRUG": 0.97, "SESSION_COUNT": 0.94, "GUIDELINE": 0.97, "micro": 0.96, "role": 0.97, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.98, "read_decision": 0.98,
             "rationale": 0.78, "format": 1.0},
    # w339-w346, written during session 28 and scored once clean (README.md); floors under the figures after
    # their misses were read ("MTUS Citation:" labels, testosterone as a laboratory value, other bodies'
    # documents split from the ODG)
    "gill": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.97, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.96, "read_decision": 0.98,
             "rationale": 0.77, "format": 1.0},
    "holm": {"DRUG": 0.97, "SESSION_COUNT": 0.94, "GUIDELINE": 0.94, "micro": 0.95, "role": 0.95, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.94, "citations": 0.93, "read_decision": 0.98,
             "rationale": 0.80, "format": 1.0},
    # w347-w378, written during session 29 and scored once clean (README.md); floors under the figures after
    # their misses were read (docs/NER.md, session 29)
    "brook": {"DRUG": 0.98, "SESSION_COUNT": 0.97, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 1.0,
              "stated_decision": 1.0, "request": 0.94, "category": 0.96, "citations": 0.94, "read_decision": 0.98,
              "rationale": 0.85, "format": 1.0},
    "weir": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.96, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.90, "read_decision": 0.98,
             "rationale": 0.81, "format": 1.0},
    "lynn": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.93, "read_decision": 0.98,
             "rationale": 0.80, "format": 1.0},
    "ghat": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.96, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.94, "citations": 0.82, "read_decision": 0.98,
             "rationale": 0.77, "format": 1.0},
    "loch": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.97, "micro": 0.96, "role": 0.97, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.98, "read_decision": 0.98,
             "rationale": 0.79, "format": 1.0},
    "firth": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.97, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.95, "read_decision": 0.98,
              "rationale": 0.85, "format": 1.0},
    "kettle": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.92, "micro": 0.94, "role": 0.95, "found": 1.0,
               "stated_decision": 1.0, "request": 0.96, "category": 0.95, "citations": 0.80, "read_decision": 0.98,
               "rationale": 0.77, "format": 1.0},
    "bourn": {"DRUG": 0.98, "SESSION_COUNT": 0.94, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.97, "citations": 0.91, "read_decision": 0.98,
              "rationale": 0.82, "format": 1.0},
    # w379-w386, scored once clean at the end of session 29, not read yet: floors under the clean figures
    "gully": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.95, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.95, "read_decision": 0.96,
              "rationale": 0.81, "format": 1.0},
    "rhyne": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.96, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.95, "read_decision": 0.98,
              "rationale": 0.80, "format": 1.0},
    # w387-w394, scored once clean in session 30: floors under the clean figures
    "dingle": {"DRUG": 0.94, "SESSION_COUNT": 0.97, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.98, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.93, "citations": 0.90, "read_decision": 0.98,
               "rationale": 0.81, "format": 1.0},
    "cleugh": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.93, "micro": 0.95, "role": 0.96, "found": 1.0,
               "stated_decision": 1.0, "request": 0.93, "category": 0.98, "citations": 0.92, "read_decision": 0.98,
               "rationale": 0.84, "format": 1.0},
    "clough": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.96, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.87, "citations": 0.93, "read_decision": 0.98,
               "rationale": 0.81, "format": 1.0},
    "slack": {"DRUG": 0.95, "SESSION_COUNT": 0.96, "GUIDELINE": 0.92, "micro": 0.94, "role": 0.95, "found": 0.94,
              "stated_decision": 0.94, "request": 0.92, "category": 0.92, "citations": 0.92, "read_decision": 0.94,
              "rationale": 0.82, "format": 1.0},
    "grike": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.95, "found": 1.0,
              "stated_decision": 1.0, "request": 0.97, "category": 0.98, "citations": 0.93, "read_decision": 0.98,
              "rationale": 0.84, "format": 1.0},
    "sough": {"DRUG": 0.96, "SESSION_COUNT": 0.96, "GUIDELINE": 0.93, "micro": 0.95, "role": 0.97, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.97, "citations": 0.85, "read_decision": 0.97,
              "rationale": 0.80, "format": 1.0},
    # w411-w474, scored once clean in session 31: floors under the clean figures
    "swale": {"DRUG": 0.94, "SESSION_COUNT": 0.95, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.96, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.95, "read_decision": 0.98,
              "rationale": 0.89, "format": 1.0},
    "carr": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.93, "read_decision": 0.98,
             "rationale": 0.89, "format": 1.0},
    "hause": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.94, "found": 1.0,
              "stated_decision": 1.0, "request": 0.94, "category": 0.95, "citations": 0.83, "read_decision": 0.98,
              "rationale": 0.86, "format": 1.0},
    "nab": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.96, "found": 1.0,
            "stated_decision": 1.0, "request": 0.96, "category": 0.98, "citations": 0.98, "read_decision": 0.98,
            "rationale": 0.88, "format": 1.0},
    "hurst": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.96, "found": 1.0,
              "stated_decision": 1.0, "request": 0.96, "category": 0.98, "citations": 0.96, "read_decision": 0.98,
              "rationale": 0.82, "format": 1.0},
    "rigg": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.97, "micro": 0.96, "role": 0.94, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.95, "citations": 0.96, "read_decision": 0.98,
             "rationale": 0.84, "format": 1.0},
    "sill": {"DRUG": 0.97, "SESSION_COUNT": 0.98, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.91, "read_decision": 0.98,
             "rationale": 0.85, "format": 1.0},
    "howe": {"DRUG": 0.97, "SESSION_COUNT": 0.92, "GUIDELINE": 0.96, "micro": 0.95, "role": 0.97, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.95, "read_decision": 0.98,
             "rationale": 0.86, "format": 1.0},
    "toft": {"DRUG": 0.96, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.97, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.95, "citations": 0.94, "read_decision": 0.98,
             "rationale": 0.82, "format": 1.0},
    "garth": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.95, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.95, "read_decision": 0.98,
              "rationale": 0.78, "format": 1.0},
    "dene": {"DRUG": 0.96, "SESSION_COUNT": 0.97, "GUIDELINE": 0.92, "micro": 0.94, "role": 0.97, "found": 1.0,
             "stated_decision": 0.95, "request": 0.98, "category": 0.95, "citations": 0.87, "read_decision": 0.98,
             "rationale": 0.85, "format": 1.0},
    "hagg": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.95, "citations": 0.92, "read_decision": 0.98,
             "rationale": 0.82, "format": 1.0},
    "wyke": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.93, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.94, "read_decision": 0.98,
             "rationale": 0.84, "format": 1.0},
    "cleeve": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.94, "found": 1.0,
               "stated_decision": 1.0, "request": 0.87, "category": 0.98, "citations": 0.95, "read_decision": 0.98,
               "rationale": 0.85, "format": 1.0},
    "lode": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.94, "micro": 0.96, "role": 0.95, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.96, "read_decision": 0.98,
             "rationale": 0.76, "format": 1.0},
    "rake": {"DRUG": 0.96, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.95, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.94, "read_decision": 0.98,
             "rationale": 0.80, "format": 1.0},
    "hope": {"DRUG": 0.96, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.96, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.93, "citations": 0.93, "read_decision": 0.98,
             "rationale": 0.80, "format": 1.0},
    "shaw": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.95, "found": 1.0,
             "stated_decision": 1.0, "request": 0.97, "category": 0.94, "citations": 0.91, "read_decision": 0.97,
             "rationale": 0.83, "format": 1.0},
    "stell": {"DRUG": 0.98, "SESSION_COUNT": 0.97, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.94, "read_decision": 0.98,
              "rationale": 0.89, "format": 1.0},
    "shiel": {"DRUG": 0.95, "SESSION_COUNT": 0.94, "GUIDELINE": 0.94, "micro": 0.95, "role": 0.96, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.90, "read_decision": 0.98,
              "rationale": 0.80, "format": 1.0},
    "laithe": {"DRUG": 0.97, "SESSION_COUNT": 0.98, "GUIDELINE": 0.94, "micro": 0.96, "role": 0.97, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.91, "read_decision": 0.98,
               "rationale": 0.84, "format": 1.0},
    "shippon": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.95, "found": 1.0,
                "stated_decision": 1.0, "request": 0.97, "category": 0.97, "citations": 0.96, "read_decision": 0.98,
                "rationale": 0.85, "format": 1.0},
    "byre": {"DRUG": 0.96, "SESSION_COUNT": 0.97, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.96, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.96, "read_decision": 0.98,
             "rationale": 0.91, "format": 1.0},
    "fold": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.95, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.94, "read_decision": 0.98,
             "rationale": 0.81, "format": 1.0},
    "croft": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.93, "micro": 0.95, "role": 0.94, "found": 1.0,
              "stated_decision": 1.0, "request": 0.96, "category": 0.95, "citations": 0.90, "read_decision": 0.98,
              "rationale": 0.85, "format": 1.0},
    "bothy": {"DRUG": 0.97, "SESSION_COUNT": 0.95, "GUIDELINE": 0.95, "micro": 0.95, "role": 0.96, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.93, "citations": 0.89, "read_decision": 0.98,
              "rationale": 0.85, "format": 1.0},
    "haugh": {"DRUG": 0.98, "SESSION_COUNT": 0.97, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.96, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.96, "read_decision": 0.98,
              "rationale": 0.83, "format": 1.0},
    "lea": {"DRUG": 0.96, "SESSION_COUNT": 0.97, "GUIDELINE": 0.94, "micro": 0.95, "role": 0.96, "found": 1.0,
            "stated_decision": 1.0, "request": 0.96, "category": 0.98, "citations": 0.93, "read_decision": 0.98,
            "rationale": 0.88, "format": 1.0},
    "steading": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.95, "found": 1.0,
                 "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.94, "read_decision": 0.98,
                 "rationale": 0.82, "format": 1.0},
    "intake": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.98, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.96, "read_decision": 0.98,
               "rationale": 0.82, "format": 1.0},
    "garner": {"DRUG": 0.98, "SESSION_COUNT": 0.96, "GUIDELINE": 0.98, "micro": 0.97, "role": 0.95, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.98, "read_decision": 0.98,
               "rationale": 0.85, "format": 1.0},
    "shieling": {"DRUG": 0.98, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.97, "found": 1.0,
                 "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.91, "read_decision": 0.98,
                 "rationale": 0.82, "format": 1.0},
    "linhay": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.97, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.96, "read_decision": 0.98,
               "rationale": 0.79, "format": 1.0},
    "hemmel": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.96, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.96, "read_decision": 0.98,
               "rationale": 0.85, "format": 1.0},
    "grange": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.94, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.87, "read_decision": 0.98,
               "rationale": 0.82, "format": 1.0},
    "oast": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 1.0,
             "stated_decision": 1.0, "request": 0.96, "category": 0.98, "citations": 0.93, "read_decision": 0.98,
             "rationale": 0.86, "format": 1.0},
    "cote": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.95, "micro": 0.96, "role": 0.96, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.93, "citations": 0.96, "read_decision": 0.98,
             "rationale": 0.84, "format": 1.0},
    "wynd": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 1.0,
             "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.95, "read_decision": 0.98,
             "rationale": 0.87, "format": 1.0},
    "brough": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.95, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.94, "citations": 0.93, "read_decision": 0.98,
               "rationale": 0.87, "format": 1.0},
    "folly": {"DRUG": 0.98, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.93, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.96, "read_decision": 0.98,
              "rationale": 0.81, "format": 1.0},
    "staddle": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.98, "found": 1.0,
                "stated_decision": 1.0, "request": 0.96, "category": 0.98, "citations": 0.93, "read_decision": 0.98,
                "rationale": 0.84, "format": 1.0},
    "hayloft": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 1.0,
                "stated_decision": 1.0, "request": 0.96, "category": 0.98, "citations": 0.94, "read_decision": 0.98,
                "rationale": 0.82, "format": 1.0},
    "granary": {"DRUG": 0.98, "SESSION_COUNT": 0.97, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.96, "found": 1.0,
                "stated_decision": 1.0, "request": 0.96, "category": 0.96, "citations": 0.98, "read_decision": 0.98,
                "rationale": 0.86, "format": 1.0},
    "dairy": {"DRUG": 0.97, "SESSION_COUNT": 0.93, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.95, "found": 1.0,
              "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.91, "read_decision": 0.96,
              "rationale": 0.80, "format": 1.0},
    "smithy": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.97, "micro": 0.97, "role": 0.95, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.95, "read_decision": 0.98,
               "rationale": 0.81, "format": 1.0},
    "stable": {"DRUG": 0.97, "SESSION_COUNT": 0.97, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 1.0,
               "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.95, "read_decision": 0.98,
               "rationale": 0.80, "format": 1.0},
    "pinfold": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.92, "micro": 0.95, "role": 0.96, "found": 1.0,
                "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.84, "read_decision": 0.98,
                "rationale": 0.83, "format": 1.0},
    "malting": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.96, "role": 0.96, "found": 1.0,
                "stated_decision": 1.0, "request": 0.98, "category": 0.96, "citations": 0.96, "read_decision": 0.98,
                "rationale": 0.85, "format": 1.0},
    "hovel": {"DRUG": 0.97, "SESSION_COUNT": 0.96, "GUIDELINE": 0.93, "micro": 0.95, "role": 0.96, "found": 1.0,
              "stated_decision": 1.0, "request": 0.96, "category": 0.98, "citations": 0.89, "read_decision": 0.98,
              "rationale": 0.84, "format": 1.0},
    "ricklet": {"DRUG": 0.98, "SESSION_COUNT": 0.96, "GUIDELINE": 0.96, "micro": 0.97, "role": 0.96, "found": 1.0,
                "stated_decision": 1.0, "request": 0.98, "category": 0.98, "citations": 0.91, "read_decision": 0.98,
                "rationale": 0.85, "format": 1.0},
}


@functools.lru_cache(maxsize=4)
def _scored(half: str) -> list[tuple[dict, dict]]:
    """(record, gold) of every letter of a half, scored by the bundled models."""
    docs = list(iter_documents([str(WRITTEN / half / "letters")]))
    records = list(load_scorer().process(docs))
    return [(r, json.loads((WRITTEN / half / "gold" / f"{r['id']}.json").read_text(encoding="utf-8")))
            for r in records]


def _figures(half: str) -> dict:
    """Strict F1 and count role accuracy (SPEC section 5, nlp.ner.scoring), and per item: request,
    treatment category, both sides' citations, the read decision and the rationale
    (`training.written_figures`, the measures of a set's clean scoring)."""
    scored = _scored(half)
    return set_figures([rec for rec, _ in scored], {gold["id"]: gold for _, gold in scored})


@pytest.mark.parametrize("half", sorted(FLOORS))
def test_figures_on_independently_written_letters(half):
    got = _figures(half)
    low = {k: round(got[k], 3) for k, floor in FLOORS[half].items() if got[k] < floor}
    assert not low, (half, low)


def test_every_written_letter_yields_a_record_without_error():
    for half in FLOORS:
        assert all(rec["error"] is None for rec, _ in _scored(half)), half
