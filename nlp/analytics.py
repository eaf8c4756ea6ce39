"""`imr report`: overturn analytics over a scored archive (JSON Lines from `imr score`).

One streaming pass over the file with counters (memory grows with the number of distinct
groups and requests, not with the number of letters). The unit is the **disputed item**.
For every group it reports

* `items` (all items), `decided` (items whose stated decision is upheld/overturned),
  `overturned`, `overturn_rate` = overturned / decided with a 95% Wilson score interval
  (`ci_low`, `ci_high`) — the decision **as the letter states it** (`item.decision`);
* `predicted_items`, `mean_p_overturned`: items with `item.prediction.p_overturned` and its
  mean, and `mean_forecast_p_overturned` (`item.prediction.forecast.p_overturned`), when the
  scorer added predictions (empty otherwise).

Groupings (an item may count in several groups of one table, e.g. two specialties):

* `treatment_category` — `item.treatment_category`;
* `drug_class` — `norm.drug_class` of the DRUG entities of the item's request line (its
  heading span); when the heading names no drug, of the DRUG entities anywhere in the item
  (`section == "item"`, `item == index`). Items naming no drug are not in this table;
* `guideline_source`, `guideline_document` — the reviewer-side guidelines of the item
  (`item.guidelines.reviewer`), "(none cited)" when there are none;
* `reviewer_specialty` — `record.reviewer_specialties`, "(not stated)" when empty;
* `decision_year` — year of `dates.decision`, "(unknown)" when missing;
* `top_requests` — the most frequent requests, lower-cased with white space collapsed and
  surrounding punctuation stripped.

Writes `DIR/analytics.html` (self-contained: CSS inline, matplotlib figures as base64 PNGs,
no external URL) from `configs/templates/report/analytics.html`, and one CSV per table.
Letter text is never read into the report beyond the request strings, which are the subject.
"""
from __future__ import annotations

import base64
import collections
import csv
import datetime as dt
import html
import io
import json
import math
import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

from nlp.config import configs_dir
from nlp.output import atomic_open

Z95 = 1.959963984540054
DECISIONS = ("upheld", "overturned")
TEMPLATE = "templates/report/analytics.html"
FIGURE_GROUPS = 15  # groups drawn per figure (the largest by decided items)

TABLE_COLUMNS = ["group", "items", "decided", "overturned", "overturn_rate", "ci_low", "ci_high",
                 "predicted_items", "mean_p_overturned", "mean_forecast_p_overturned"]
OVERALL_COLUMNS = ["measure", "value"]

# (table name, title, what a group is)
DIMENSIONS = [
    ("treatment_category", "Treatment category", "DWC treatment category of the item"),
    ("drug_class", "Drug class", "class of the drugs the item's request names (DRUG entities)"),
    ("guideline_source", "Guideline source (reviewer)", "source of the guidelines the reviewer relied on"),
    ("guideline_document", "Guideline document (reviewer)", "source / document of the reviewer's guidelines"),
    ("reviewer_specialty", "Reviewer specialty", "the expert reviewer's stated specialties"),
    ("decision_year", "Decision year", "year of the letter's decision date"),
]


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float] | tuple[None, None]:
    """95% Wilson score interval of k successes in n trials; (None, None) when n is 0."""
    if n <= 0:
        return None, None
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    low = 0.0 if k == 0 else min(p, max(0.0, center - half))  # exact ends; no float drift past p
    high = 1.0 if k == n else max(p, min(1.0, center + half))
    return low, high


@dataclass
class Cell:
    items: int = 0
    decided: int = 0
    overturned: int = 0
    predicted: int = 0
    sum_p: float = 0.0
    forecast: int = 0
    sum_fp: float = 0.0

    def add(self, item: dict) -> None:
        self.items += 1
        decision = item.get("decision")
        if decision in DECISIONS:
            self.decided += 1
            self.overturned += decision == "overturned"
        pred = item.get("prediction") or {}
        p = pred.get("p_overturned")
        if isinstance(p, (int, float)) and not isinstance(p, bool) and math.isfinite(p):
            self.predicted += 1
            self.sum_p += p
        fp = (pred.get("forecast") or {}).get("p_overturned")
        if isinstance(fp, (int, float)) and not isinstance(fp, bool) and math.isfinite(fp):
            self.forecast += 1
            self.sum_fp += fp

    def row(self, group: str) -> dict:
        low, high = wilson_interval(self.overturned, self.decided)
        return {
            "group": group, "items": self.items, "decided": self.decided, "overturned": self.overturned,
            "overturn_rate": self.overturned / self.decided if self.decided else None,
            "ci_low": low, "ci_high": high, "predicted_items": self.predicted,
            "mean_p_overturned": self.sum_p / self.predicted if self.predicted else None,
            "mean_forecast_p_overturned": self.sum_fp / self.forecast if self.forecast else None,
        }


@dataclass
class Tally:
    letters: int = 0
    bad_lines: int = 0
    errors: collections.Counter = field(default_factory=collections.Counter)
    overall: Cell = field(default_factory=Cell)
    tables: dict = field(default_factory=lambda: {name: collections.defaultdict(Cell) for name, _, _ in DIMENSIONS})
    requests: dict = field(default_factory=lambda: collections.defaultdict(Cell))


_WS = re.compile(r"\s+")
_EDGE_PUNCT = " \t.,;:-\u2013\u2014*\u2022\"'"


def normalize_request(request: str | None) -> str:
    text = _WS.sub(" ", (request or "").lower()).strip(_EDGE_PUNCT)
    return text or "(empty)"


def _drug_classes(record: dict, item: dict) -> set[str]:
    index = item.get("index")
    heading = ((item.get("spans") or {}).get("heading")) or None
    in_item, in_heading = set(), set()
    for e in record.get("entities") or []:
        if e.get("label") != "DRUG" or e.get("section") != "item" or e.get("item") != index:
            continue
        cls = (e.get("norm") or {}).get("drug_class") or "unclassified"
        in_item.add(cls)
        if heading and heading[0] <= e.get("start", -1) and e.get("end", 1 << 62) <= heading[1]:
            in_heading.add(cls)
    return in_heading or in_item


def _item_groups(record: dict, item: dict) -> dict[str, set[str]]:
    reviewer = ((item.get("guidelines") or {}).get("reviewer")) or []
    sources = {g.get("source") or "(unspecified)" for g in reviewer} or {"(none cited)"}
    documents = {f"{g.get('source') or '(unspecified)'} / {g.get('document') or '(unspecified)'}"
                 for g in reviewer} or {"(none cited)"}
    decision_date = (record.get("dates") or {}).get("decision")
    year = decision_date[:4] if isinstance(decision_date, str) and re.match(r"\d{4}", decision_date) else "(unknown)"
    return {
        "treatment_category": {item.get("treatment_category") or "(none)"},
        "drug_class": _drug_classes(record, item),
        "guideline_source": sources,
        "guideline_document": documents,
        "reviewer_specialty": set(record.get("reviewer_specialties") or []) or {"(not stated)"},
        "decision_year": {year},
    }


class NotJsonLines(ValueError):
    """A file `imr report` cannot read: not scored JSON Lines (one record per line)."""


def check_jsonl(path: str | os.PathLike) -> None:
    """Raise `NotJsonLines` unless the first non-blank line of `path` is a JSON object (a record):
    CSV and Parquet outputs (one row per item) are refused, as is a file without any record."""
    name = os.path.basename(os.fspath(path))
    hint = "pass the JSON Lines output of imr score / imr parse (--out scored.jsonl)"
    with open(path, "rb") as fh:
        if fh.read(4) == b"PAR1":
            raise NotJsonLines(f"{name} is a Parquet file, not JSON Lines; {hint}")
        fh.seek(0)
        for line in fh:
            if not line.strip():
                continue
            try:
                rec = json.loads(line.decode("utf-8", errors="replace"))
            except ValueError:
                rec = None
            if not isinstance(rec, dict):
                kind = "a CSV file, not" if name.lower().endswith(".csv") else "not"
                raise NotJsonLines(f"{name} is {kind} scored JSON Lines; {hint}")
            return
    raise NotJsonLines(f"{name} holds no record; {hint}")


def tally(path: str | os.PathLike) -> Tally:
    """Stream a scored JSON Lines file into counters."""
    t = Tally()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                t.bad_lines += 1
                continue
            if not isinstance(rec, dict):
                t.bad_lines += 1
                continue
            t.letters += 1
            if rec.get("error"):
                t.errors[(rec["error"] or {}).get("type") or "unknown"] += 1
            for item in rec.get("items") or []:
                if not isinstance(item, dict):
                    continue
                t.overall.add(item)
                for name, groups in _item_groups(rec, item).items():
                    for g in groups:
                        t.tables[name][g].add(item)
                t.requests[normalize_request(item.get("request"))].add(item)
    return t


def table_rows(cells: dict, name: str = "") -> list[dict]:
    rows = [c.row(g) for g, c in cells.items()]
    if name == "decision_year":
        return sorted(rows, key=lambda r: (not r["group"][:1].isdigit(), r["group"]))
    return sorted(rows, key=lambda r: (-r["decided"], -r["items"], r["group"]))


def overall_rows(t: Tally) -> list[dict]:
    o = t.overall.row("all items")
    rows = [("letters", t.letters), ("letters with an error", sum(t.errors.values()))]
    rows += [(f"letters with error {k}", v) for k, v in sorted(t.errors.items())]
    rows += [("unreadable lines skipped", t.bad_lines), ("items", o["items"]),
             ("items with a stated decision", o["decided"]), ("overturned items", o["overturned"]),
             ("overturn rate", o["overturn_rate"]), ("overturn rate 95% CI low", o["ci_low"]),
             ("overturn rate 95% CI high", o["ci_high"]), ("items with a prediction", o["predicted_items"]),
             ("mean predicted p_overturned", o["mean_p_overturned"]),
             ("mean forecast p_overturned", o["mean_forecast_p_overturned"])]
    return [{"measure": m, "value": v} for m, v in rows]


# --------------------------------------------------------------------------- output

def _csv_value(v):
    if isinstance(v, float):
        return f"{v:.6f}"
    return "" if v is None else v


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with atomic_open(path) as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        for r in rows:
            w.writerow({c: _csv_value(r.get(c)) for c in columns})


def _pct(v) -> str:
    return "" if v is None else f"{100 * v:.1f}%"


def _num(v) -> str:
    return "" if v is None else f"{v:,}"


def html_table(rows: list[dict], label: str = "Group") -> str:
    has_pred = any(r["predicted_items"] for r in rows)
    head = [label, "Items", "Decided", "Overturned", "Overturn rate", "95% CI"]
    if has_pred:
        head += ["Predicted items", "Mean p(overturn)", "Mean forecast p"]
    out = ['<table><thead><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in rows:
        ci = f"{_pct(r['ci_low'])} – {_pct(r['ci_high'])}" if r["ci_low"] is not None else ""
        cells = [f'<td class="g">{html.escape(str(r["group"]))}</td>', f"<td>{_num(r['items'])}</td>",
                 f"<td>{_num(r['decided'])}</td>", f"<td>{_num(r['overturned'])}</td>",
                 f"<td>{_pct(r['overturn_rate'])}</td>", f"<td>{ci}</td>"]
        if has_pred:
            cells += [f"<td>{_num(r['predicted_items'])}</td>", f"<td>{_pct(r['mean_p_overturned'])}</td>",
                      f"<td>{_pct(r['mean_forecast_p_overturned'])}</td>"]
        out.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        out.append(f'<tr><td class="g" colspan="{len(head)}">no items</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _figure_png(fig) -> str:
    """`fig` as a base64 PNG; the figure is closed (pyplot keeps every open figure alive)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def rate_figure(rows: list[dict], title: str, by_year: bool = False) -> str | None:
    """Overturn rate with Wilson 95% error bars per group (and the mean predicted p beside it)
    as a base64 PNG; None when no group has a decided item."""
    from matplotlib.figure import Figure  # noqa: PLC0415 - the report extra

    rows = [r for r in rows if r["decided"]]
    if by_year:  # a time axis: known years only ("(unknown)" stays in the table)
        rows = [r for r in rows if r["group"][:1].isdigit()]
    else:
        rows = sorted(rows, key=lambda r: (-r["decided"], r["group"]))[:FIGURE_GROUPS][::-1]
    if not rows:
        return None
    sep = "\n" if by_year else "  "
    labels = [f"{r['group']}{sep}(n={r['decided']:,})" for r in rows]
    rate = [100 * r["overturn_rate"] for r in rows]
    err = [[max(0.0, 100 * (r["overturn_rate"] - r["ci_low"])) for r in rows],
           [max(0.0, 100 * (r["ci_high"] - r["overturn_rate"])) for r in rows]]
    pred = [(i, 100 * r["mean_p_overturned"]) for i, r in enumerate(rows) if r["mean_p_overturned"] is not None]
    if by_year:
        fig = Figure(figsize=(8.0, 3.6))
        ax = fig.subplots()
        xs = list(range(len(rows)))
        ax.errorbar(xs, rate, yerr=err, fmt="o-", color="#1f5f99", ecolor="#7aa6cf", capsize=4,
                    label="stated overturn rate (95% Wilson CI)")
        if pred:
            ax.plot([i for i, _ in pred], [v for _, v in pred], "D", color="#d1495b", label="mean predicted p(overturn)")
        ax.set_xticks(xs, labels, rotation=45 if len(xs) > 10 else 0, ha="right" if len(xs) > 10 else "center",
                      fontsize=8)
        ax.set_xlim(-0.5, len(xs) - 0.5)
        ax.set_ylabel("overturned items, %")
    else:
        fig = Figure(figsize=(8.0, 0.42 * len(rows) + 1.3))
        ax = fig.subplots()
        ys = list(range(len(rows)))
        ax.barh(ys, rate, xerr=err, color="#7aa6cf", ecolor="#1f3b57", capsize=3, height=0.6,
                label="stated overturn rate (95% Wilson CI)")
        if pred:
            ax.plot([v for _, v in pred], [i for i, _ in pred], "D", color="#d1495b", label="mean predicted p(overturn)")
        ax.set_yticks(ys, labels)
        ax.set_xlabel("overturned items, %")
        top = max([100 * r["ci_high"] for r in rows] + [v for _, v in pred])
        ax.set_xlim(0, max(5.0, min(100.0, top * 1.08 + 0.5)))
    ax.set_title(title, fontsize=11, loc="left", pad=22)
    ax.grid(axis="x" if not by_year else "y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if by_year:
        top = max([100 * r["ci_high"] for r in rows] + [v for _, v in pred])
        ax.set_ylim(0, max(5.0, min(100.0, top * 1.08 + 0.5)))
    # legend above the plot area, never over the bars
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=8, frameon=False)
    return _figure_png(fig)


def _template() -> string.Template:
    return string.Template((configs_dir() / TEMPLATE).read_text(encoding="utf-8"))


def report_style() -> str:
    """The CSS shared by the report pages (configs/templates/report/style.css)."""
    return (configs_dir() / "templates" / "report" / "style.css").read_text(encoding="utf-8")


def render_html(t: Tally, tables: dict[str, list[dict]], requests: list[dict], source_name: str) -> str:
    overall = t.overall.row("all items")
    cards = [("Letters", _num(t.letters)), ("Items", _num(overall["items"])),
             ("Overturned (stated)", f"{_num(overall['overturned'])} of {_num(overall['decided'])}"),
             ("Overturn rate", f"{_pct(overall['overturn_rate'])}"),
             ("95% Wilson CI", f"{_pct(overall['ci_low'])} – {_pct(overall['ci_high'])}"
              if overall["ci_low"] is not None else "n/a")]
    if overall["predicted_items"]:
        cards.append(("Mean predicted p(overturn)", _pct(overall["mean_p_overturned"])))
    if t.errors:
        cards.append(("Letters with errors", _num(sum(t.errors.values()))))
    summary = "".join(f'<div class="card"><div class="k">{html.escape(k)}</div><div class="v">{html.escape(v)}</div></div>'
                      for k, v in cards)
    errors = ""
    if t.errors or t.bad_lines:
        parts = [f"{html.escape(k)}: {v:,}" for k, v in sorted(t.errors.items())]
        if t.bad_lines:
            parts.append(f"unreadable lines skipped: {t.bad_lines:,}")
        errors = '<p class="note">Letters without items (errors) — ' + "; ".join(parts) + ".</p>"
    sections, toc = [], []
    for name, title, what in DIMENSIONS:
        rows = tables[name]
        png = rate_figure(rows, f"Overturn rate by {title.lower()}", by_year=(name == "decision_year"))
        fig = (f'<img alt="Overturn rate by {html.escape(title.lower())}" src="data:image/png;base64,{png}">'
               if png else '<p class="note">No decided items in this grouping.'
               + (" Drug classes come from DRUG entities: records scored without the NER model have none."
                  if name == "drug_class" and not rows else "") + "</p>")
        toc.append(f'<a href="#{name}">{html.escape(title)}</a>')
        sections.append(f'<section id="{name}"><h2>{html.escape(title)}</h2><p class="note">Group: {html.escape(what)}. '
                        f'Table: <code>{name}.csv</code>.</p>{fig}{html_table(rows, title)}</section>')
    toc.append('<a href="#top_requests">Most frequent requests</a>')
    sections.append('<section id="top_requests"><h2>Most frequent requests</h2><p class="note">Requests lower-cased, '
                    'white space collapsed. Table: <code>top_requests.csv</code>.</p>'
                    + html_table(requests, "Request") + "</section>")
    return _template().substitute(
        title="IMR overturn analytics", style=report_style(),
        source=html.escape(source_name),
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        summary=summary, errors=errors, toc=" · ".join(toc), sections="\n".join(sections),
    )


def write_report(scored: str | os.PathLike, out_dir: str | os.PathLike, top_requests: int = 25) -> dict:
    """Tally `scored` and write `analytics.html` and the CSV tables into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t = tally(scored)
    tables = {name: table_rows(t.tables[name], name) for name, _, _ in DIMENSIONS}
    requests = sorted((c.row(g) for g, c in t.requests.items()),
                      key=lambda r: (-r["items"], -r["decided"], r["group"]))[:top_requests]
    written = []
    path = out_dir / "overall.csv"
    write_csv(path, OVERALL_COLUMNS, overall_rows(t))
    written.append(path)
    for name, rows in [*tables.items(), ("top_requests", requests)]:
        path = out_dir / f"{name}.csv"
        write_csv(path, TABLE_COLUMNS, rows)
        written.append(path)
    page = out_dir / "analytics.html"
    with atomic_open(page) as fh:
        fh.write(render_html(t, tables, requests, Path(scored).name))
    return {"letters": t.letters, "items": t.overall.items, "html": page, "csv": written}
