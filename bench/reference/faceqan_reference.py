#!/usr/bin/python3
"""The project's own re-implementation of the FaceQAN reference code (LSIbabnikz/FaceQAN, src/), as
that code behaves: one face at a time, a batch of k noisy copies, fp32 on the CPU, model parameters
left trainable (weight gradients are computed on every backward pass), the clean embedding kept in
the autograd graph, every iteration's backward pass run (the last one too), no flush-to-zero.

It is a yardstick for bench/compare_reference.sh, not part of the product. With --careful it is the
second yardstick: what a careful PyTorch user would write with the same loop, the model's parameters
frozen (no weight gradients) and torch.set_flush_denormal(True) (subnormal floats flushed to zero, on
the main thread and on the intra-op threads torch starts after it: they inherit the mode). Two deliberate
departures from the reference, both so that scores can be compared with the project's:
  * the noise comes from torch.rand((k,3,H,W), generator) * 2eps - eps with the generator seeded by
    face_seed(seed, key), exactly as quality/src/faceqan_scorer.cpp draws it (the reference draws
    uniform_(-eps, eps) per copy from the global generator);
  * -k and -p are honoured (the reference ignores its -k and -p switches).

Per face (the reference's order):
  BIM (src/bim_attack.py): batch = clamp(x + U(-eps, eps), -1, 1) (k copies); base = emb(x) with its
    graph; l times: batch.requires_grad; e = emb(batch);
    loss = CosineEmbeddingLoss(base, e, target 1) = mean(1 - cos); model.zero_grad(); loss.backward();
    batch = clamp(batch + eps * sign(grad), -1, 1); detach batch, x, e, base;
    S += cos(base, e)  (torch.nn.CosineSimilarity(dim=1), eps 1e-8).
    The first backward also runs through base's graph (one image), later ones do not (base detached).
  symmetry (src/symmetry.py): emb([x, hflip(x)]) in one 2-image forward pass (graph built, then
    detached); sf = cos(emb[0], emb[1]).
  q = (((1 + mean S) / 2) * clip(1 - std S, 0, 1) * sf) ** p  (numpy, population std).
So per face: 1 + l*k + 2 image forward passes and l*k + 1 image backward passes (each computing input
and weight gradients).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_to_torch import load_onnx_as_torch  # noqa: E402
from seeds import face_seed  # noqa: E402


class Normalize(torch.nn.Module):
    """(x * 255 - mean) / std per channel, in the model's channel order (the model's description)."""

    def __init__(self, description):
        super().__init__()
        self.bgr = description.get("channel_order", "RGB").upper() == "BGR"
        self.register_buffer("mean", torch.tensor(description["mean"], dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(description["std"], dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, x):
        if self.bgr:
            x = x.flip(1)
        return (x * 255.0 - self.mean) / self.std


def load_model(onnx_path):
    with open(os.path.splitext(onnx_path)[0] + ".json") as f:
        description = json.load(f)
    model = torch.nn.Sequential(Normalize(description), load_onnx_as_torch(onnx_path)).eval()
    size = description.get("input_size", [112, 112])
    return model, (int(size[1]), int(size[0]))  # (H, W)


def load_image(path):
    """RGB float32 in [0, 1], CHW (the reference's transforms.ToTensor())."""
    array = np.asarray(Image.open(path).convert("RGB"))
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div(255)


class Counters:
    def __init__(self):
        self.forward_images = 0
        self.backward_images = 0


def aggregate(similarities, sf, p):
    """The reference's F (src/util.py), with p honoured."""
    return (((1. + np.mean(similarities)) / 2.) * np.clip(1. - np.std(similarities), 0., 1.) * sf) ** p


def score_face(model, image, eps, l, k, p, seed, key, counters):
    # bim_attack.basic_iterative_method
    generator = torch.Generator().manual_seed(face_seed(seed, key))
    noise = torch.rand((k, *image.shape), generator=generator) * (2 * eps) - eps
    noisy_batch = torch.clamp(image.unsqueeze(0) + noise, -1., 1.)
    base_emb = model(image.unsqueeze(0))
    counters.forward_images += 1
    base_in_graph = True
    cos_loss = torch.nn.CosineEmbeddingLoss()
    cos_sim = torch.nn.CosineSimilarity(dim=1)
    similarities = []
    for _ in range(l):
        image.requires_grad = noisy_batch.requires_grad = True
        noisy_embs = model(noisy_batch)
        counters.forward_images += k
        loss = cos_loss(input1=base_emb, input2=noisy_embs, target=torch.Tensor([1]))
        model.zero_grad()
        loss.backward()
        counters.backward_images += k + (1 if base_in_graph else 0)
        grad = noisy_batch.grad.data
        noisy_batch = torch.clamp(noisy_batch + eps * grad.sign(), -1., 1.)
        noisy_batch, image, noisy_embs, base_emb = (noisy_batch.detach(), image.detach(),
                                                     noisy_embs.detach(), base_emb.detach())
        base_in_graph = False
        similarities.append(cos_sim(base_emb.detach(), noisy_embs.detach()).cpu().numpy())
    # symmetry.symmetry_estimation
    embeds = model(torch.vstack((image.unsqueeze(0), image.flip(-1).unsqueeze(0)))).detach()
    counters.forward_images += 2
    sf = cos_sim(embeds[0].unsqueeze(0), embeds[1].unsqueeze(0)).item()
    return {
        "quality": float(aggregate(similarities, sf, p)),
        "mean_similarity": float(np.mean(similarities)),
        "std_similarity": float(np.std(similarities)),
        "symmetry": float(sf),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", help="aligned face images at the model's input size; key = index")
    parser.add_argument("--model", required=True, help="recognition model .onnx (its .json beside it)")
    parser.add_argument("--epsilon", type=float, default=0.001)
    parser.add_argument("-l", "--iterations", type=int, default=5)
    parser.add_argument("-k", "--samples", type=int, default=10)
    parser.add_argument("-p", "--exponent", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20220821)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=0, help="faces scored first and not timed")
    parser.add_argument("--output", help="JSON file (default: stdout)")
    parser.add_argument("--flush-denormal", action="store_true",
                        help="not the reference: flush subnormals to zero, as the project does (to measure the effect)")
    parser.add_argument("--careful", action="store_true",
                        help="the careful yardstick: parameters frozen and --flush-denormal")
    args = parser.parse_args()

    if args.careful:
        args.flush_denormal = True
    if args.flush_denormal:
        torch.set_flush_denormal(True)  # before the intra-op threads exist, so that they inherit it
    torch.set_num_threads(args.threads)
    model, (height, width) = load_model(args.model)
    if args.careful:
        model.requires_grad_(False)
    images = [load_image(path) for path in args.images]
    for path, image in zip(args.images, images):
        if tuple(image.shape[1:]) != (height, width):
            raise SystemExit("%s is %dx%d, the model expects %dx%d" % (path, image.shape[2], image.shape[1], width, height))

    settings = (args.epsilon, args.iterations, args.samples, args.exponent, args.seed)
    for index in range(min(args.warmup, len(images))):
        score_face(model, images[index].clone(), *settings, index, Counters())
    counters = Counters()
    results = []
    start = time.perf_counter()
    for index, (path, image) in enumerate(zip(args.images, images)):
        face_start = time.perf_counter()
        result = score_face(model, image.clone(), *settings, index, counters)
        result.update({"image": path, "key": index, "seconds": time.perf_counter() - face_start})
        results.append(result)
        print("reference: face %d/%d %.1f s" % (index + 1, len(images), result["seconds"]), file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    report = {
        "settings": {"epsilon": args.epsilon, "l": args.iterations, "k": args.samples, "p": args.exponent,
                     "seed": args.seed, "threads": torch.get_num_threads(), "torch": torch.__version__,
                     "flush_denormal": bool(args.flush_denormal), "careful": bool(args.careful)},
        "seconds": seconds, "faces": len(results),
        "forward_images": counters.forward_images, "backward_images": counters.backward_images,
        "results": results,
    }
    text = json.dumps(report, indent=2)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
