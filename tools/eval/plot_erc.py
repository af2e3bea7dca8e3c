#!/usr/bin/python3
"""Draws the ERC curves of `faceqan eval --output curves.json` into a PNG (python3-matplotlib).

Usage: plot_erc.py CURVES.json OUT.png
One panel per target FMR and threshold variant (fixed on all impostor pairs / re-estimated after
rejection); one line per method.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        data = json.load(f)
    methods = data["methods"]
    fmrs = [e["fmr"] for e in methods[0]["by_fmr"]]
    variants = [("fnmr_fixed", "threshold fixed"), ("fnmr_reestimated", "threshold re-estimated")]
    fig, axes = plt.subplots(len(variants), len(fmrs), figsize=(5.2 * len(fmrs), 4.0 * len(variants)),
                             squeeze=False, sharex=True)
    styles = ["-", "--", "-.", ":"]
    for row, (key, label) in enumerate(variants):
        for col, fmr in enumerate(fmrs):
            ax = axes[row][col]
            for i, m in enumerate(methods):
                y = [float("nan") if v is None else v for v in m["by_fmr"][col][key]]
                main = i == 0
                ax.plot(m["reject"], y, styles[(i // 10) % 4], linewidth=2.4 if main else 1.2,
                        color="black" if main else None, label=m["name"])
            ax.set_title("FMR %g, %s" % (fmr, label), fontsize=10)
            ax.set_xlabel("fraction of pairs rejected")
            ax.set_ylabel("FNMR")
            ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("ERC: %s" % data.get("title", ""), fontsize=11)
    fig.tight_layout(rect=(0, 0.04 + 0.025 * ((len(methods) + 2) // 3), 1, 0.97))
    fig.savefig(sys.argv[2], dpi=72)


if __name__ == "__main__":
    main()
