#!/usr/bin/env python3
"""Markdown tables of docs/EVALUATION.md from `faceqan eval` text reports (dev_eval.sh runs it).

    doc_tables.py build/dev-eval/foamliu.txt [more.txt ...] > build/dev-eval/tables.md

Per report: normalised pAUC up to r = 0.2 / 0.3 / 0.8 for every method in the four protocol
variants, the lowest pAUC(0.8) of each column in bold.
"""
import re
import sys

COLUMNS = [("0.01", "fixed"), ("0.01", "re-estimated"), ("0.001", "fixed"), ("0.001", "re-estimated")]


def sections(text):
    """{(fmr, variant): {method: (p2, p3, p8)}} in the report's order of methods."""
    found, methods = {}, []
    current = None
    for line in text.splitlines():
        head = re.match(r"FNMR at FMR (\S+), threshold (fixed|re-estimated)", line)
        if head:
            current = found.setdefault((head.group(1), head.group(2)), {})
            continue
        row = re.match(r"(.+?)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\|\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line)
        if current is not None and row:
            method = row.group(1).strip()
            current[method] = tuple(row.group(i) for i in (2, 3, 4))
            if method not in methods:
                methods.append(method)
        elif not line.strip():
            current = None
    return found, methods


def table(path):
    text = open(path).read()
    found, methods = sections(text)
    before = {m.group(1): m.group(2) for m in re.finditer(r"threshold at FMR (\S+): .*FNMR before rejection (\S+)", text)}
    out = [f"FNMR before rejection: {before.get('0.001', '?')} at FMR 1e-3, {before.get('0.01', '?')} at FMR 1e-2.", ""]
    out.append("| method | 1e-2 fixed | 1e-2 re-estimated | 1e-3 fixed | 1e-3 re-estimated |")
    out.append("|---|---|---|---|---|")
    best = {c: min(float(v[2]) for v in found[c].values()) for c in COLUMNS if c in found}
    for method in methods:
        cells = []
        for column in COLUMNS:
            p2, p3, p8 = found.get(column, {}).get(method, ("?", "?", "?"))
            if p8 != "?" and float(p8) == best[column]:
                p8 = f"**{p8}**"
            cells.append(f"{p2} / {p3} / {p8}")
        out.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    for report in sys.argv[1:]:
        print(f"<!-- {report} -->")
        print(table(report))
        print()
