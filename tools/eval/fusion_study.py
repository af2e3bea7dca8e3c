#!/usr/bin/env python3
"""Fused quality score study of issue 16, point 2: does FaceQAN combined with the embedding norm
beat both FaceQAN and the embedding norm? Development set only (never ../shared/data/holdout).

    tools/eval/fusion_study.py [--dataset build/dev-set] [--scores build/dev-set/scores_l5k10.json]
                               [--output build/fusion-study] [--faceqan build/bin/faceqan]

(tools/eval/fusion_study.sh runs it with these defaults after tools/eval/dev_eval.sh.)

Method, fixed before looking at any result:

- Folds: the identity folders of the data set, sorted by name, assigned alternately (1st, 3rd, ...
  to fold A; 2nd, 4th, ... to fold B). Each fold is evaluated on its own identities only (genuine
  pairs within them, impostor pairs between them), with the normalisation fitted on the other fold.
- Inputs per face, from the `faceqan score` JSON (l 5, k 10): quality, mean_similarity,
  std_similarity, symmetry, embedding_norm. Where an image has several faces the largest one (by
  box area) is the image's, as in `faceqan eval`; the fitting values are those of the images.
- Normalisation (the only fitted part): the percentile rank against the fitting fold's images,
      rank(x) = (F(x) + 0.5) / (n + 1),
  where n is the number of fitting images with a face and F(x) is the number of fitting values
  <= x, interpolated linearly between consecutive sorted fitting values (0 below the smallest, n
  at or above the largest). This is the fraction of fitting values <= x, kept inside (0, 1) so
  that a product never becomes 0 for a face below the fitting fold's minimum (the other factor
  still orders such faces).
- Candidates (no weights, nothing tuned on the evaluation fold):
    a  rank average:    (rank(quality) + rank(embedding_norm)) / 2
    b  geometric mean:  sqrt(rank(quality) * rank(embedding_norm))
    c  parts x norm:    (1 + mean) / 2 * clip(1 - std, 0, 1) * symmetry * rank(embedding_norm)
       (FaceQAN's base before the power p, with the norm's rank as a fourth factor)
- Evaluation: `faceqan eval FOLD/data` on a folder of symlinks to the fold's identity folders,
  with the fold's FaceQAN scores as the main score file (its landmarks align the faces, as in
  dev_eval.sh), the three candidates written as `faceqan score`-style JSON (the original entries
  with `quality` replaced), and the score file's embedding_norm as a check against eval's own
  "embedding norm" baseline. Two verifiers (mobilefacenet128_foamliu, mobilefacenet512_faceplugin),
  FMR 1e-2 and 1e-3, fixed and re-estimated threshold: 8 columns of normalised pAUC(0.8), lower
  is better.
- Rule (issue 16): ship `quality_fused` only if one candidate has a lower pAUC(0.8) than both
  FaceQAN and the embedding norm (eval's baseline) in at least 6 of the 8 columns, in both folds.

Output: OUTPUT/fold{A,B}/ (data/ symlinks, score files, eval_{foamliu,same}.{txt,json,err}),
OUTPUT/study.json and OUTPUT/study.md (the tables and the decision, also printed).
"""
import argparse
import bisect
import copy
import json
import math
import os
import subprocess
import sys

VERIFIERS = [("foamliu", "recognition/mobilefacenet128_foamliu.onnx"),
             ("same", "recognition/mobilefacenet512_faceplugin.onnx")]
COLUMNS = [(v, fmr, variant) for v, _ in VERIFIERS for fmr in (0.01, 0.001) for variant in ("fixed", "reestimated")]
FACEQAN = "FaceQAN (l 5, k 10)"
NORM = "embedding norm"
NORM_FILE = "embedding norm (score file)"
CANDIDATES = [("a", "fused a: rank average"), ("b", "fused b: geometric mean of ranks"),
              ("c", "fused c: FaceQAN parts x norm rank")]
WINS_NEEDED = 6


def face_area(face):
    box = face.get("box")
    return box[2] * box[3] if box else 0.0


def largest_face(entry):
    faces = [f for f in entry.get("faces", []) if "quality" in f]
    if not faces:
        return None
    best = faces[0]
    for f in faces[1:]:
        if face_area(f) > face_area(best):  # first of equal areas, as eval's keep_largest
            best = f
    return best


class Rank:
    """Percentile rank against fitting values: (F(x) + 0.5) / (n + 1), F interpolated."""

    def __init__(self, values):
        self.v = sorted(values)
        if len(self.v) < 2:
            raise SystemExit("fusion_study: fewer than 2 fitting values")

    def __call__(self, x):
        v, n = self.v, len(self.v)
        if x < v[0]:
            f = 0.0
        elif x >= v[-1]:
            f = float(n)
        else:
            i = bisect.bisect_right(v, x)  # v[i-1] <= x < v[i], 1 <= i <= n-1
            lo, hi = v[i - 1], v[i]
            f = i + (x - lo) / (hi - lo) if hi > lo else float(i)
        return (f + 0.5) / (n + 1)


def fused(face, rq, rn):
    a = rq(face["quality"])
    b = rn(face["embedding_norm"])
    parts = (1 + face["mean_similarity"]) / 2 * min(max(1 - face["std_similarity"], 0.0), 1.0) * face["symmetry"]
    return {"a": (a + b) / 2, "b": math.sqrt(a * b), "c": parts * b}


def identity_of(entry):
    return entry["image"].split("/")[0]


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def run_eval(args, fold_dir, files, tag, recognizer):
    cmd = [args.faceqan, "eval", os.path.join(fold_dir, "data"), "--recognizer", recognizer]
    for name, path in files:
        cmd += ["--scores", f"{name}={path}"]
    out_json = os.path.join(fold_dir, f"eval_{tag}.json")
    cmd += ["-o", out_json]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    with open(os.path.join(fold_dir, f"eval_{tag}.txt"), "w") as out, \
            open(os.path.join(fold_dir, f"eval_{tag}.err"), "w") as err:
        rc = subprocess.run(cmd, stdout=out, stderr=err).returncode
    with open(os.path.join(fold_dir, f"eval_{tag}.cmd"), "w") as f:
        f.write(" ".join(f"'{c}'" if " " in c else c for c in cmd) + "\n")
    if not os.path.exists(out_json):
        raise SystemExit(f"fusion_study: eval failed (status {rc}), see {fold_dir}/eval_{tag}.err")
    with open(out_json) as f:
        return rc, json.load(f)


def pauc8(method):
    """{(fmr, variant): normalised pAUC up to r = 0.8} of one method of eval's JSON."""
    out = {}
    for e in method["by_fmr"]:
        for p in e["pauc"]:
            if abs(p["limit"] - 0.8) < 1e-9:
                out[(round(e["fmr"], 6), "fixed")] = p["fixed_normalised"]
                out[(round(e["fmr"], 6), "reestimated")] = p["reestimated_normalised"]
    return out


def column_label(c):
    v, fmr, variant = c
    return f"{v} {'1e-2' if fmr == 0.01 else '1e-3'} {'fixed' if variant == 'fixed' else 're-est.'}"


def fmt(x):
    return "-" if x is None else f"{x:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="build/dev-set")
    ap.add_argument("--scores", default="build/dev-set/scores_l5k10.json")
    ap.add_argument("--output", default="build/fusion-study")
    ap.add_argument("--faceqan", default="build/bin/faceqan")
    ap.add_argument("--threads", type=int, default=0, help="eval --threads (0: eval's default)")
    args = ap.parse_args()
    if "holdout" in os.path.abspath(args.dataset).split(os.sep):
        raise SystemExit("fusion_study: never on holdout data")

    with open(args.scores) as f:
        entries = json.load(f)
    identities = sorted(d for d in os.listdir(args.dataset) if os.path.isdir(os.path.join(args.dataset, d)))
    fold_of = {ident: "AB"[i % 2] for i, ident in enumerate(identities)}
    for e in entries:
        if identity_of(e) not in fold_of:
            raise SystemExit(f"fusion_study: {e['image']} is in no identity folder of {args.dataset}")
        for face in e.get("faces", []):
            if "quality" in face and "embedding_norm" not in face:
                raise SystemExit(f"fusion_study: {e['image']} has no embedding_norm: rescore with a current faceqan")

    summary = {"scores": args.scores, "dataset": args.dataset, "folds": {}, "rule": f"a candidate beats both "
               f"{FACEQAN} and {NORM} on pAUC(0.8) in at least {WINS_NEEDED} of 8 columns in both folds"}
    report = []
    for fold in "AB":
        fit = [largest_face(e) for e in entries if fold_of[identity_of(e)] != fold]
        fit = [f for f in fit if f is not None]
        rq = Rank([f["quality"] for f in fit])
        rn = Rank([f["embedding_norm"] for f in fit])
        mine = [e for e in entries if fold_of[identity_of(e)] == fold]
        fold_dir = os.path.join(args.output, f"fold{fold}")
        data_dir = os.path.join(fold_dir, "data")
        os.makedirs(data_dir, exist_ok=True)
        fold_ids = [i for i in identities if fold_of[i] == fold]
        for ident in fold_ids:
            link = os.path.join(data_dir, ident)
            if os.path.islink(link):
                os.remove(link)
            os.symlink(os.path.abspath(os.path.join(args.dataset, ident)), link)
        outs = {k: copy.deepcopy(mine) for k in ("faceqan", "norm", "a", "b", "c")}
        for k in ("norm", "a", "b", "c"):
            for e in outs[k]:
                for face in e.get("faces", []):
                    if "quality" not in face:
                        continue
                    face["quality"] = face["embedding_norm"] if k == "norm" else fused(face, rq, rn)[k]
        paths = {k: os.path.abspath(os.path.join(fold_dir, f"scores_{k}.json")) for k in outs}
        for k in outs:
            write_json(paths[k], outs[k])
        files = [(FACEQAN, paths["faceqan"]), (NORM_FILE, paths["norm"])] + \
                [(name, paths[k]) for k, name in CANDIDATES]
        no_face = sum(1 for e in mine if largest_face(e) is None)
        info = {"identities": fold_ids, "images": len(mine), "images_without_face_in_scores": no_face,
                "fitting_images": len(fit), "verifiers": {}}
        values = {}
        for tag, rec in VERIFIERS:
            rc, j = run_eval(args, fold_dir, files, tag, rec)
            with open(os.path.join(fold_dir, f"eval_{tag}.txt")) as t:
                text = t.read()
            missing = None
            for line in text.splitlines():
                if line.startswith("pairs used:") and "without a score" in line:
                    missing = int(line.split("unusable image, ")[1].split()[0])
            m = next(x for x in j["methods"] if x["name"] == FACEQAN)
            info["verifiers"][tag] = {"status": rc, "images_left_out": j["images_left_out"],
                                      "pairs_used": j["pairs_used"], "pairs_left_out": j["pairs_left_out"],
                                      "pairs_without_score": missing, "genuine": m["genuine"],
                                      "impostor": m["impostor"], "warnings": j["warnings"]}
            for x in j["methods"]:
                for (fmr, variant), p in pauc8(x).items():
                    values.setdefault(x["name"], {})[(tag, fmr, variant)] = p
        rows = [FACEQAN, NORM, NORM_FILE] + [name for _, name in CANDIDATES]
        wins = {}
        for k, name in CANDIDATES:
            w = []
            for c in COLUMNS:
                v, f, b = values[name].get(c), values[FACEQAN].get(c), values[NORM].get(c)
                w.append(v is not None and f is not None and b is not None and v < f and v < b)
            wins[name] = w
        norm_check = max(abs(values[NORM][c] - values[NORM_FILE][c]) for c in COLUMNS
                         if values[NORM].get(c) is not None and values[NORM_FILE].get(c) is not None)
        info["pauc08"] = {name: {column_label(c): values[name].get(c) for c in COLUMNS} for name in rows}
        info["wins"] = {name: sum(w) for name, w in wins.items()}
        info["norm_file_vs_eval_baseline_max_abs_difference"] = norm_check
        summary["folds"][fold] = info

        report.append(f"### Fold {fold}: evaluated on {len(fold_ids)} identities, normalisation fitted on "
                      f"the other fold's {len(fit)} images")
        report.append("")
        vi = info["verifiers"]
        report.append(f"{len(mine)} images ({no_face} without a face in the score file); pairs used "
                      f"{vi['foamliu']['pairs_used']} ({vi['foamliu']['genuine']} genuine, "
                      f"{vi['foamliu']['impostor']} impostor); images left out by eval: "
                      f"{vi['foamliu']['images_left_out']} / {vi['same']['images_left_out']}, pairs without a "
                      f"score: {vi['foamliu']['pairs_without_score']} / {vi['same']['pairs_without_score']} "
                      f"(foamliu / same).")
        report.append("")
        report.append("| method | " + " | ".join(column_label(c) for c in COLUMNS) + " | wins |")
        report.append("|---|" + "---|" * (len(COLUMNS) + 1))
        for name in rows:
            if name == NORM_FILE:
                continue
            cells = []
            for i, c in enumerate(COLUMNS):
                cell = fmt(values[name].get(c))
                if name in wins and wins[name][i]:
                    cell = f"**{cell}**"
                cells.append(cell)
            tail = f"{sum(wins[name])}/8" if name in wins else ""
            report.append(f"| {name} | " + " | ".join(cells) + f" | {tail} |")
        report.append("")
        report.append(f"(bold: lower than both FaceQAN and the embedding norm. Score-file embedding_norm against "
                      f"eval's embedding-norm baseline: largest pAUC(0.8) difference {norm_check:.4f}.)")
        report.append("")

    ship = [name for _, name in CANDIDATES
            if all(summary["folds"][f]["wins"][name] >= WINS_NEEDED for f in "AB")]
    summary["ship"] = ship
    decision = (f"Decision: ship `quality_fused` as {ship[0]}" if ship else
                "Decision: no candidate beats both FaceQAN and the embedding norm in at least 6 of 8 columns "
                "in both folds; ship nothing.")
    report.append("Wins (columns out of 8 where the candidate beats both): " + "; ".join(
        f"{name}: A {summary['folds']['A']['wins'][name]}, B {summary['folds']['B']['wins'][name]}"
        for _, name in CANDIDATES))
    report.append("")
    report.append(decision)
    text = "\n".join(report) + "\n"
    summary["decision"] = decision
    write_json(os.path.join(args.output, "study.json"), summary)
    with open(os.path.join(args.output, "study.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
