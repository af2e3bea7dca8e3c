#!/usr/bin/env python3
"""The GPU comparison of bench/gpu.sh: the project's faceqan-bench-quality against the Python
reference FaceQAN, on one device, at several precisions, for the default model and an
IResNet-100-sized network; prints a Markdown table. Needs torch only (no numpy, PIL or onnx on the
GPU machine: faces and the default model's TorchScript can be prepared elsewhere, see --prepare).

  gpu_bench.py --prepare --build build --work build/gpu-bench   (on the development machine:
        faces.bin from real faces, default.pt from the ONNX model; needs onnx, PIL, build/bin/faceqan)
  gpu_bench.py --bench BIN --work DIR --device cuda [--precisions fp32,tf32,bf16,fp16]
        [--models default,iresnet100] [--tiny]

The reference is bench/reference/faceqan_reference.py's algorithm, as the reference code runs
it: one face at a time, a batch of k copies, trainable weights, the clean embedding in the graph,
every backward pass, a host sync per step; at tf32 with PyTorch's TF32 switches on, at bf16/fp16
under torch.autocast (what a PyTorch user would write). Noise: the same per-face generators as
the project, so at fp32 the scores agree to float rounding.
"""
import argparse
import array
import json
import math
import os
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "reference"))
from seeds import face_seed  # noqa: E402  (the one copy, shared with the reference)


def spearman(a, b):
    def ranks(x):
        order = sorted(range(len(x)), key=lambda i: x[i])
        r = [0.0] * len(x)
        i = 0
        while i < len(order):  # average ranks of ties
            j = i
            while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
                j += 1
            for m in range(i, j + 1):
                r[order[m]] = (i + j) / 2.0
            i = j + 1
        return r
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = math.sqrt(sum((x - ma) ** 2 for x in ra))
    vb = math.sqrt(sum((y - mb) ** 2 for y in rb))
    return cov / (va * vb) if va > 0 and vb > 0 else float("nan")


# ---------------------------------------------------------------------------------------------
# The reference, on a device and a precision.

def set_precision_switches(precision):
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def autocast_dtype(precision):
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)


def reference_score(model, image, eps, l, k, p, seed, key, device, precision):
    """One face, the reference's way. image: CPU [3,H,W] in [0,1]."""
    lower = autocast_dtype(precision)

    def embed(x):
        x = (x * 255.0 - 127.5) / 127.5  # the project's default contract, as the TorchScript expects
        if lower is None:
            return model(x)
        with torch.autocast(device_type=device.type, dtype=lower):
            return model(x).float()

    generator = torch.Generator().manual_seed(face_seed(seed, key))
    noise = torch.rand((k, *image.shape), generator=generator) * (2 * eps) - eps
    image = image.to(device)
    noisy = torch.clamp(image.unsqueeze(0) + noise.to(device), -1.0, 1.0)
    base = embed(image.unsqueeze(0))
    cos_loss = torch.nn.CosineEmbeddingLoss()
    cos_sim = torch.nn.CosineSimilarity(dim=1)
    target = torch.ones(1, device=device)
    similarities = []
    for _ in range(l):
        noisy.requires_grad = True
        embeddings = embed(noisy)
        loss = cos_loss(base, embeddings, target)
        model.zero_grad()
        loss.backward()
        noisy = torch.clamp(noisy + eps * noisy.grad.sign(), -1.0, 1.0).detach()
        embeddings, base = embeddings.detach(), base.detach()
        similarities += cos_sim(base, embeddings).double().cpu().tolist()
    both = embed(torch.stack((image, image.flip(-1)))).detach()
    sf = cos_sim(both[0:1], both[1:2]).item()
    s = torch.tensor(similarities, dtype=torch.float64)
    mean, std = s.mean().item(), s.std(unbiased=False).item()
    return (((1.0 + mean) / 2.0) * min(max(1.0 - std, 0.0), 1.0) * sf) ** p


# ---------------------------------------------------------------------------------------------
# The project's benchmark.

def run_project(bench, model_path, faces_file, face_count, settings, device, precision, batches, threads, work, tag):
    eps, l, k, p, seed = settings
    json_out = os.path.join(work, "project_%s.json" % tag)
    scores_out = os.path.join(work, "project_%s.scores" % tag)
    command = [bench, "--model", model_path, "--device", device, "--precision", precision,
               "--threads", str(threads), "--batches", ",".join(str(b) for b in batches),
               "--faces", str(face_count), "--iterations", str(l), "--samples", str(k), "--warmup", "1",
               "--faces-file", faces_file, "--json-out", json_out, "--scores-out", scores_out]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with open(os.path.join(work, "project_%s.log" % tag), "w") as f:
        f.write(" ".join(command) + "\n" + result.stdout)
    if result.returncode != 0:
        errors = [line for line in result.stdout.splitlines() if line.startswith("faceqan-bench-quality:")]
        return None, errors[-1] if errors else "failed (see %s)" % json_out.replace(".json", ".log")
    with open(json_out) as f:
        rows = json.load(f)
    with open(scores_out) as f:
        scores = [float(line.split()[1]) for line in f if line.strip()]
    best = max(rows, key=lambda r: r["faces_per_s"])
    return {"rows": rows, "best": best, "scores": scores}, None


# ---------------------------------------------------------------------------------------------
# Inputs.

def read_faces(path, size=(112, 112)):
    data = open(path, "rb").read()
    per_face = size[0] * size[1] * 3
    count = len(data) // (4 * per_face)
    flat = torch.frombuffer(bytearray(data[:count * per_face * 4]), dtype=torch.float32)
    return [f.permute(2, 0, 1).contiguous() for f in flat.view(count, size[0], size[1], 3)]


def synthetic_faces(path, count, size=(112, 112)):
    """Smooth per-face patterns (as faceqan-bench-quality makes): timing is the same, agreement
    over them says less than over real faces."""
    y = torch.arange(size[0], dtype=torch.float64).view(-1, 1, 1)
    x = torch.arange(size[1], dtype=torch.float64).view(1, -1, 1)
    c = torch.arange(3, dtype=torch.float64).view(1, 1, -1)
    faces = torch.stack([(0.5 + 0.4 * torch.sin(0.07 * x * (c + 1) + 0.05 * y + i)).float() for i in range(count)])
    with open(path, "wb") as f:
        array.array("f", faces.flatten().tolist()).tofile(f)


def prepare(args):
    """On the development machine: real faces (as bench/reference/compare.py picks them) and the
    default model's TorchScript."""
    os.makedirs(args.work, exist_ok=True)
    sys.path.insert(0, os.path.join(HERE, "reference"))
    import numpy as np
    from compare import prepare_faces
    from PIL import Image
    build = os.path.abspath(args.build)
    data = args.data or os.path.join(os.path.dirname(HERE), "..", "shared", "data")
    paths = prepare_faces(build, os.path.join(args.work, "faces-src"), args.faces, data)
    arrays = [np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) / 255.0 for p in paths]
    arrays = [a for a in arrays if a.shape == (112, 112, 3)]
    np.stack(arrays).astype(np.float32).tofile(os.path.join(args.work, "faces.bin"))
    with open(os.path.join(args.work, "faces.txt"), "w") as f:
        f.write("\n".join(os.path.relpath(p, build) for p in paths) + "\n")
    print("faces.bin: %d real faces (%d LFW aligned, %d detected and aligned crops)"
          % (len(arrays), sum("lfw_" in os.path.basename(p) for p in paths),
             sum("lfw_" not in os.path.basename(p) for p in paths)))
    onnx_model = args.onnx or os.path.join(build, "models", "recognition", "mobilefacenet512_faceplugin.onnx")
    subprocess.run([sys.executable, os.path.join(HERE, "gpu_models.py"), "default",
                    os.path.join(args.work, "default.pt"), "--onnx", onnx_model], check=True)
    return 0


# ---------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--build", default="build")
    parser.add_argument("--data", default=None)
    parser.add_argument("--onnx", default=None)
    parser.add_argument("--bench", help="faceqan-bench-quality built against this Python's LibTorch")
    parser.add_argument("--work", required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--precisions", default="fp32,tf32,bf16,fp16")
    parser.add_argument("--models", default="default,iresnet100")
    parser.add_argument("--faces", type=int, default=50, help="faces for agreement (and the project's timing)")
    parser.add_argument("--reference-faces", type=int, default=8, help="faces the reference scores (timing, agreement)")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--exponent", type=int, default=5)
    parser.add_argument("--epsilon", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=20220821)
    parser.add_argument("--default-batches", default="8,32,64")
    parser.add_argument("--iresnet-batches", default="4,16")
    parser.add_argument("--iresnet-layers", default="3,13,30,3")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.prepare:
        return prepare(args)

    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = (args.epsilon, args.iterations, args.samples, args.exponent, args.seed)

    faces_file = os.path.join(work, "faces.bin")
    real = os.path.exists(faces_file)
    if not real:
        faces_file = os.path.join(work, "faces-synthetic.bin")
        synthetic_faces(faces_file, args.faces)
    faces = read_faces(faces_file)
    face_count = min(args.faces, len(faces)) if real else args.faces
    print("device: %s (%s); torch %s, CUDA %s, cuDNN %s" % (
        device, torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU",
        torch.__version__, torch.version.cuda, torch.backends.cudnn.version() if torch.cuda.is_available() else None))
    print("faces: %d %s; FaceQAN eps %g, l %d, k %d, p %d; reference on the first %d faces (1 more as warm-up)\n"
          % (face_count, "real (faces.bin)" if real else "SYNTHETIC (no faces.bin: agreement is only indicative)",
             args.epsilon, args.iterations, args.samples, args.exponent, args.reference_faces))

    models = []
    for name in args.models.split(","):
        if name == "default":
            path = os.path.join(work, "default.pt")
            if not os.path.exists(path):
                onnx_model = args.onnx or os.path.join(os.path.dirname(HERE), "build", "models", "recognition",
                                                       "mobilefacenet512_faceplugin.onnx")
                made = subprocess.run([sys.executable, os.path.join(HERE, "gpu_models.py"), "default", path,
                                       "--onnx", onnx_model])
                if made.returncode != 0:
                    print("default model: no %s and it cannot be made here (needs onnx and %s); skipped\n"
                          % (path, onnx_model))
                    continue
            models.append(("default (mobilefacenet512)", path, [int(b) for b in args.default_batches.split(",")], 10.0))
        elif name == "iresnet100":
            path = os.path.join(work, "iresnet100_%s.pt" % args.iresnet_layers.replace(",", "-"))
            if not os.path.exists(path):
                subprocess.run([sys.executable, os.path.join(HERE, "gpu_models.py"), "iresnet100", path,
                                "--layers", args.iresnet_layers], check=True)
            label = "IResNet-100 (random weights)" if args.iresnet_layers == "3,13,30,3" else \
                "IResNet layers %s (random weights)" % args.iresnet_layers
            models.append((label, path, [int(b) for b in args.iresnet_batches.split(",")], 3.0))
        else:
            raise SystemExit("unknown model %s" % name)

    precisions = args.precisions.split(",")
    ref_faces = faces[:args.reference_faces]
    warm = faces[args.reference_faces:args.reference_faces + 1] or faces[:1]
    lines = []
    summary = []
    for label, path, batches, fp32_target in models:
        results = {}
        for precision in precisions:
            tag = "%s_%s" % (os.path.splitext(os.path.basename(path))[0], precision)
            project, error = run_project(args.bench, path, faces_file, face_count, settings, args.device, precision,
                                         batches, args.threads, work, tag)
            try:
                ref_scores, ref_seconds = run_reference(path, warm, ref_faces, settings, device, precision)
                ref_error = None
            except Exception as exc:  # an unsupported precision on this device
                ref_scores, ref_seconds, ref_error = None, None, str(exc).strip().splitlines()[0][:120]
            results[precision] = (project, error, ref_scores, ref_seconds, ref_error)
            print("%s %s: project %s; reference %s" % (label, precision,
                  "%.2f faces/s" % project["best"]["faces_per_s"] if project else "refused (%s)" % error,
                  "%.2f faces/s" % (len(ref_faces) / ref_seconds) if ref_scores else "failed (%s)" % ref_error),
                  file=sys.stderr, flush=True)
        ref_fp32 = results.get("fp32")
        ref_fp32_rate = len(ref_faces) / ref_fp32[3] if ref_fp32 and ref_fp32[2] else None
        proj_fp32 = ref_fp32[0] if ref_fp32 else None
        for precision in precisions:
            project, error, ref_scores, ref_seconds, ref_error = results[precision]
            ref_rate = len(ref_faces) / ref_seconds if ref_scores else None
            cells = [label, precision]
            if project is None:
                cells += ["refused: %s" % error, "", "", "", "", "", ""]
            else:
                best = project["best"]
                rate = best["faces_per_s"]
                cells += ["%.2f (batch %d)" % (rate, best["batch"]), "%.1f" % best["ms_per_face"]]
                cells.append("%.2f" % ref_rate if ref_rate else "failed: %s" % ref_error)
                cells.append("%.1fx" % (rate / ref_rate) if ref_rate else "")
                cells.append("%.1fx" % (rate / ref_fp32_rate) if ref_fp32_rate else "")
                if proj_fp32 and precision != "fp32":
                    n = min(len(proj_fp32["scores"]), len(project["scores"]))
                    cells.append("%.4f (%d faces)" % (spearman(proj_fp32["scores"][:n], project["scores"][:n]), n))
                else:
                    cells.append("1 (itself)" if precision == "fp32" else "")
                if ref_scores:
                    diffs = [abs(a - b) for a, b in zip(project["scores"], ref_scores)]
                    cells.append("%.1e (%d faces)" % (max(diffs), len(diffs)))
                else:
                    cells.append("")
                if ref_fp32_rate:
                    target = fp32_target if precision in ("fp32", "tf32") else (6.0 if fp32_target == 3.0 else fp32_target)
                    summary.append("%s %s: %.1fx the reference's fp32 faces/s (target >= %gx): %s"
                                   % (label, precision, rate / ref_fp32_rate, target,
                                      "met" if rate / ref_fp32_rate >= target else "NOT met"))
            lines.append("| " + " | ".join(cells) + " |")

    print("| model | precision | project faces/s (best batch) | project ms/face | reference faces/s "
          "| x reference (same precision) | x reference fp32 | Spearman vs project fp32 "
          "| max abs(project - reference) quality |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(lines))
    print()
    print("\n".join(summary))
    return 0


def run_reference(path, warm, faces, settings, device, precision):
    """Warm-up on a face outside the timed set (keyed after them), then the timed faces keyed 0..n-1."""
    eps, l, k, p, seed = settings
    set_precision_switches(precision)
    model = torch.jit.load(path, map_location=device).eval()
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    for face in warm:
        reference_score(model, face.clone(), eps, l, k, p, seed, 1 << 20, device, precision)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    scores = [reference_score(model, face.clone(), eps, l, k, p, seed, index, device, precision)
              for index, face in enumerate(faces)]
    if device.type == "cuda":
        torch.cuda.synchronize()
    return scores, time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
