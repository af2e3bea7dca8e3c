#!/usr/bin/python3
"""How many of a reference run's faces another run finds, frame by frame (IoU >= 0.5).

    detection_recall.py REFERENCE CANDIDATE [LABEL]

Both files are either the element's JSON-lines export (json-location; frames matched by
timestamp, per-frame "objects" with "x", "y", "w", "h" in pixels) or `faceqan detect`'s JSON
(images matched by "image", per-face "box" [x, y, w, h]). In each frame the pairs are matched
greedily, highest IoU first, one to one. Prints one Markdown table row: reference faces, found,
recall, and the same for reference faces at least 40 pixels wide; and candidate faces that match
no reference face (extra).
"""
import json
import sys

MIN_IOU = 0.5
WIDE = 40


def load(path):
    """{frame key: [(x, y, w, h), ...]}"""
    text = open(path).read()
    frames = {}
    if text.lstrip().startswith("["):
        for image in json.loads(text):
            frames[image["image"]] = [tuple(f["box"]) for f in image.get("faces", [])]
        return frames
    for line in text.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if "event" in record:
            continue
        frames[record["timestamp"]] = [
            (o["x"], o["y"], o["w"], o["h"]) for o in record["objects"]]
    return frames


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (aw * ah + bw * bh - inter)


def match(reference, candidate):
    """Indices of the reference boxes matched one to one at IoU >= MIN_IOU."""
    pairs = sorted(((iou(r, c), i, j) for i, r in enumerate(reference)
                    for j, c in enumerate(candidate)), reverse=True)
    used_r, used_c = set(), set()
    for value, i, j in pairs:
        if value < MIN_IOU:
            break
        if i in used_r or j in used_c:
            continue
        used_r.add(i)
        used_c.add(j)
    return used_r, len(candidate) - len(used_c)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: detection_recall.py REFERENCE CANDIDATE [LABEL]")
    reference, candidate = load(sys.argv[1]), load(sys.argv[2])
    label = sys.argv[3] if len(sys.argv) > 3 else sys.argv[2]
    missing = [k for k in reference if k not in candidate]
    if missing:
        sys.exit("detection_recall: %d reference frames are not in %s (first: %s)" % (
            len(missing), sys.argv[2], missing[0]))
    total = found = wide = wide_found = extra = 0
    for key, boxes in reference.items():
        matched, unmatched = match(boxes, candidate[key])
        extra += unmatched
        total += len(boxes)
        found += len(matched)
        for i, box in enumerate(boxes):
            if box[2] >= WIDE:
                wide += 1
                wide_found += i in matched
    print("| %s | %d | %d | %d | %.1f%% | %d | %d | %.1f%% | %d |" % (
        label, len(reference), total, found, 100.0 * found / max(1, total), wide, wide_found,
        100.0 * wide_found / max(1, wide), extra))


if __name__ == "__main__":
    main()
