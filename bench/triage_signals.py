#!/usr/bin/python3
"""Which signal finds each track's best FaceQAN face (issue 16, point 3).

Reads the CSV of faceqan-bench-triage-signals (one row per face of a scoring=every-face run: its
track, its FaceQAN quality, the budget's cheap signals and the embedding norm of one clean
forward pass) and prints, per signal, over the tracks with at least MIN_FACES scored faces:

- same face: how often the face with the highest signal is the track's best FaceQAN face;
- quality lost: the track's best quality minus the quality of the face the signal picks (mean, max);
- Spearman: the rank correlation of signal and quality within a track (mean over tracks of 3+ faces).

A budget that triages by a signal scores the faces that signal ranks high, so a signal that ranks
a track's faces as FaceQAN does finds the best face with fewer scorings.

Usage: bench/triage_signals.py faces.csv [--min-faces 2] [--cpu "CPU name"]
"""
import argparse
import csv
from collections import defaultdict

import numpy as np

SIGNALS = [
    ("promise (budget today)", lambda r: r["promise"]),
    ("eye distance", lambda r: r["eye_distance"]),
    ("sharpness", lambda r: r["sharpness"]),
    ("detector confidence", lambda r: r["confidence"]),
    ("frontal", lambda r: r["frontal"]),
    ("embedding norm", lambda r: r["embedding_norm"]),
    ("promise x embedding norm", lambda r: r["promise"] * r["embedding_norm"]),
]


def ranks(values):
    order = np.argsort(values, kind="stable")
    result = np.empty(len(values))
    result[order] = np.arange(len(values))
    # ties share their mean rank
    for value in set(values):
        where = [i for i, v in enumerate(values) if v == value]
        if len(where) > 1:
            result[where] = np.mean(result[where])
    return result


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    if np.std(ra) == 0 or np.std(rb) == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--min-faces", type=int, default=2)
    args = parser.parse_args()
    tracks = defaultdict(list)
    with open(args.csv) as f:
        for row in csv.DictReader(f):
            tracks[int(row["track"])].append({k: float(v) for k, v in row.items()})
    kept = {t: rows for t, rows in tracks.items() if len(rows) >= args.min_faces}
    faces = sum(len(r) for r in kept.values())
    print(f"{len(kept)} tracks with {args.min_faces}+ scored faces ({faces} faces); "
          f"{len(tracks) - len(kept)} shorter tracks left out\n")
    print("| signal | same face as FaceQAN's best | mean quality lost | max quality lost "
          "| mean Spearman within a track (3+ faces) |")
    print("|---|---:|---:|---:|---:|")
    for name, signal in SIGNALS:
        same, lost, rhos = 0, [], []
        for rows in kept.values():
            quality = [r["quality"] for r in rows]
            values = [signal(r) for r in rows]
            best = max(quality)
            picked = quality[int(np.argmax(values))]
            same += picked == best
            lost.append(best - picked)
            if len(rows) >= 3:
                rho = spearman(values, quality)
                if rho is not None:
                    rhos.append(rho)
        print(f"| {name} | {same}/{len(kept)} ({100.0 * same / len(kept):.0f}%) | "
              f"{np.mean(lost):.4f} | {np.max(lost):.4f} | "
              f"{np.mean(rhos):.3f} ({len(rhos)} tracks) |")


if __name__ == "__main__":
    main()
