#!/usr/bin/python3
"""Derives fixed-size variants of the RetinaFace ONNX export for other input sizes.

OpenCV 4.6 dnn runs only fixed shapes, and the shipped export is fixed at 640x640: its FPN
upsamples the coarser maps with Resize nodes whose target sizes are constants ([40, 40] for the
stride-16 map, [80, 80] for the stride-8 one), and its input and outputs declare 640x640 shapes.
Everything else (convolutions, heads, reshapes to [1, -1, k]) follows the input size. A variant
for W x H (both multiples of the largest stride, 32) needs only those constants and the declared
shapes changed; the weights are untouched, so the variant finds the same faces as the original
does on an image that fills W x H of its 640x640 input.

    derive_detector_sizes.py SOURCE.onnx OUTPUT_DIR WxH [WxH ...]

writes OUTPUT_DIR/<source stem without its size>_<W>x<H>.onnx for each size, e.g.
retinaface_mnet025_640x384.onnx from retinaface_mnet025_640.onnx. The output is deterministic
(the same bytes for the same source and onnx version), so prepare.sh checks its sha256.
"""
import os
import re
import sys

import onnx
from onnx import numpy_helper

LARGEST_STRIDE = 32
ANCHORS_PER_CELL = 2
STRIDES = (8, 16, 32)
# The FPN's upsampling targets in the source: its 640x640 sizes at stride 16 and stride 8.
UPSAMPLE_STRIDES = {(40, 40): 16, (80, 80): 8}
SOURCE_SIZE = 640


def fail(message):
    sys.stderr.write("derive_detector_sizes: %s\n" % message)
    sys.exit(1)


def parse_size(text):
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match:
        fail("size '%s' is not WxH" % text)
    width, height = int(match.group(1)), int(match.group(2))
    if width <= 0 or height <= 0 or width % LARGEST_STRIDE or height % LARGEST_STRIDE:
        fail("size %s: both sides must be positive multiples of %d" % (text, LARGEST_STRIDE))
    return width, height


def set_dims(value_info, dims):
    shape = value_info.type.tensor_type.shape
    if len(shape.dim) != len(dims):
        fail("%s has %d dimensions, expected %d" % (value_info.name, len(shape.dim), len(dims)))
    for dim, value in zip(shape.dim, dims):
        dim.Clear()
        dim.dim_value = value


def derive(source, width, height):
    model = onnx.ModelProto()
    model.CopyFrom(source)
    graph = model.graph
    if len(graph.input) != 1 or len(graph.output) != 3:
        fail("expected one input and three outputs (boxes, scores, landmarks)")
    set_dims(graph.input[0], [1, 3, height, width])
    priors = sum((width // s) * (height // s) * ANCHORS_PER_CELL for s in STRIDES)
    for output, columns in zip(graph.output, (4, 2, 10)):
        set_dims(output, [1, priors, columns])
    # Intermediate shapes, if the export recorded any, were for 640x640: let tools re-infer them.
    del graph.value_info[:]

    patched = set()
    for node in graph.node:
        if node.op_type != "Constant":
            continue
        tensor = node.attribute[0].t
        values = tuple(numpy_helper.to_array(tensor).tolist()) if tensor.dims == [2] else None
        stride = UPSAMPLE_STRIDES.get(values)
        if stride is None:
            continue
        array = numpy_helper.to_array(tensor).copy()
        array[:] = [height // stride, width // stride]  # Resize takes [..., H, W]
        tensor.CopyFrom(numpy_helper.from_array(array, tensor.name))
        patched.add(stride)
    if patched != set(UPSAMPLE_STRIDES.values()):
        fail("the FPN's Resize sizes [40, 40] and [80, 80] were not both found: not the "
             "expected RetinaFace export")
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) < 4:
        fail("usage: derive_detector_sizes.py SOURCE.onnx OUTPUT_DIR WxH [WxH ...]")
    source_path, output_dir = sys.argv[1], sys.argv[2]
    source = onnx.load(source_path)
    dims = [d.dim_value for d in source.graph.input[0].type.tensor_type.shape.dim]
    if dims[2:] != [SOURCE_SIZE, SOURCE_SIZE]:
        fail("%s: input %s, expected a 640x640 export" % (source_path, dims))
    stem = re.sub(r"_%d$" % SOURCE_SIZE, "", os.path.splitext(os.path.basename(source_path))[0])
    os.makedirs(output_dir, exist_ok=True)
    for text in sys.argv[3:]:
        width, height = parse_size(text)
        path = os.path.join(output_dir, "%s_%dx%d.onnx" % (stem, width, height))
        with open(path, "wb") as out:
            out.write(derive(source, width, height).SerializeToString(deterministic=True))
        print(path)


if __name__ == "__main__":
    main()
