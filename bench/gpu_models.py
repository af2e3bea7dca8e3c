#!/usr/bin/python3
"""TorchScript models for bench/gpu.sh (needs torch only; the default model also needs onnx).

  gpu_models.py default OUT.pt [--onnx M.onnx]   the default recognition model (ONNX, through
        bench/reference/onnx_to_torch.py) as TorchScript, taking the project's default contract
        (RGB, (x*255 - 127.5) / 127.5): a first layer maps that to the model's own description.
  gpu_models.py iresnet100 OUT.pt [--layers 3,13,30,3]   insightface's IResNet-100 layout with
        random weights (seeded), the size of the paper's CosFace ResNet-100 (65 M parameters,
        12 GFLOP per image forward).

Both are traced at a batch of 1 and checked at a batch of 3 against the eager module.
"""
import argparse
import json
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
from iresnet import IResNet  # noqa: E402  (the one copy of the layout, shared with the tests)


class ContractAdapter(nn.Module):
    """Takes the project's default contract ((x*255 - 127.5) / 127.5, RGB) and feeds `model` its own."""

    def __init__(self, model, description):
        super().__init__()
        self.model = model
        self.bgr = description.get("channel_order", "RGB").upper() == "BGR"
        mean = torch.tensor(description.get("mean", [127.5] * 3), dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(description.get("std", [127.5] * 3), dtype=torch.float32).view(1, 3, 1, 1)
        # pixel255 = y * 127.5 + 127.5; model input = (pixel255 - mean) / std = y * a + b.
        self.register_buffer("a", 127.5 / std)
        self.register_buffer("b", (127.5 - mean) / std)

    def forward(self, y):
        if self.bgr:
            y = y.flip(1)
        return self.model(y * self.a + self.b)


def trace_and_check(model, path, size=(112, 112)):
    model = model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    example = torch.zeros(1, 3, *size)
    with torch.no_grad():
        traced = torch.jit.trace(model, example, check_trace=False)
        batch = torch.rand(3, 3, *size, generator=torch.Generator().manual_seed(7)) * 2 - 1
        eager, scripted = model(batch), traced(batch)
    if eager.shape != scripted.shape or not torch.allclose(eager, scripted, atol=1e-4, rtol=1e-4):
        raise SystemExit("%s: the traced module differs from the eager one at a batch of 3" % path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    traced.save(path)
    parameters = sum(p.numel() for p in model.parameters())
    print("%s: %.1f M parameters, output %s" % (path, parameters / 1e6, tuple(eager.shape)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["default", "iresnet100"])
    parser.add_argument("output")
    parser.add_argument("--onnx", help="the default model's ONNX file (its .json description beside it)")
    parser.add_argument("--layers", default="3,13,30,3", help="IResNet blocks per stage (100: 3,13,30,3)")
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.kind == "iresnet100":
        layers = tuple(int(v) for v in args.layers.split(","))
        model = IResNet(layers)
        # Non-trivial batch-norm statistics, as a trained network has.
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
        trace_and_check(model, args.output)
        return 0
    if not args.onnx:
        raise SystemExit("default: --onnx M.onnx is required")
    sys.path.insert(0, os.path.join(HERE, "reference"))
    from onnx_to_torch import load_onnx_as_torch  # needs the onnx package
    description = {}
    json_path = os.path.splitext(args.onnx)[0] + ".json"
    if os.path.exists(json_path):
        with open(json_path) as f:
            description = json.load(f)
    size = description.get("input_size", [112, 112])
    trace_and_check(ContractAdapter(load_onnx_as_torch(args.onnx), description), args.output,
                    (int(size[1]), int(size[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
