#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (fuzz/*.cpp) into OUTPUT_DIR/<target>/.

Everything is generated here: tiny ONNX graphs (onnx's helper, random weights of a few hundred
bytes), model descriptions, location patterns and small synthetic images (PNG, BMP, PPM written
by hand). With --face-dir, a few aligned face photos from that folder are copied as image seeds
too (the shared data set; they stay in the build folder, never in the repository).

Usage: /usr/bin/python3 fuzz/make_seeds.py OUTPUT_DIR [--face-dir DIR] [--faces N]
"""
import argparse
import json
import os
import shutil
import struct
import zlib

import numpy as np


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---------------------------------------------------------------- ONNX graphs
def onnx_seeds(out):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)

    def weight(name, *shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.1, name)

    def ints(name, values):
        return numpy_helper.from_array(np.array(values, dtype=np.int64), name)

    def model(nodes, initializers, opset=13, out_name="out", in_shape=(1, 3, 16, 16)):
        graph = helper.make_graph(
            nodes, "seed",
            [helper.make_tensor_value_info("in", TensorProto.FLOAT, list(in_shape))],
            [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, None)],
            initializer=initializers)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        return m.SerializeToString()

    n = helper.make_node
    seeds = {}
    # Conv + BatchNormalization (folded) + PRelu + Flatten + Gemm: the recognition model's shape.
    seeds["conv_bn_prelu_gemm"] = model([
        n("Conv", ["in", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        n("BatchNormalization", ["c", "s", "bb", "m", "v"], ["bn"], epsilon=1e-5),
        n("PRelu", ["bn", "slope"], ["p"]),
        n("GlobalAveragePool", ["p"], ["g"]),
        n("Flatten", ["g"], ["f"], axis=1),
        n("Gemm", ["f", "gw", "gb"], ["out"], transB=1),
    ], [weight("w", 4, 3, 3, 3), weight("b", 4), weight("s", 4), weight("bb", 4), weight("m", 4),
        numpy_helper.from_array(np.ones(4, np.float32), "v"), weight("slope", 4, 1, 1),
        weight("gw", 8, 4), weight("gb", 8)])
    # Depthwise conv, Relu, Add (residual), Clip, MaxPool, Reshape with a constant shape.
    seeds["depthwise_residual"] = model([
        n("Conv", ["in", "dw"], ["d"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=3),
        n("Relu", ["d"], ["r"]),
        n("Add", ["r", "in"], ["a"]),
        n("Clip", ["a", "lo", "hi"], ["cl"]),
        n("MaxPool", ["cl"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        n("Reshape", ["mp", "shape"], ["out"]),
    ], [weight("dw", 3, 1, 3, 3), numpy_helper.from_array(np.array(0, np.float32), "lo"),
        numpy_helper.from_array(np.array(6, np.float32), "hi"), ints("shape", [1, -1])])
    # Shape / Gather / Unsqueeze / Concat computing a reshape target (folded at import).
    seeds["shape_arithmetic"] = model([
        n("Shape", ["in"], ["sh"]),
        n("Gather", ["sh", "zero"], ["batch"], axis=0),
        n("Unsqueeze", ["batch", "axes"], ["b1"]),
        n("Concat", ["b1", "minus1"], ["target"], axis=0),
        n("AveragePool", ["in"], ["ap"], kernel_shape=[4, 4], strides=[4, 4]),
        n("Reshape", ["ap", "target"], ["out"]),
    ], [ints("zero", 0), ints("axes", [0]), ints("minus1", [-1])])
    # Constant, Mul, Sub, Div, Transpose, Pad, Sigmoid, Squeeze, MatMul.
    seeds["elementwise"] = model([
        n("Constant", [], ["k"], value=helper.make_tensor("kv", TensorProto.FLOAT, [1], [0.5])),
        n("Mul", ["in", "k"], ["m"]),
        n("Sub", ["m", "k"], ["s"]),
        n("Div", ["s", "k"], ["dv"]),
        n("Pad", ["dv", "pads"], ["pd"], mode="constant"),
        n("Transpose", ["pd"], ["t"], perm=[0, 2, 3, 1]),
        n("Sigmoid", ["t"], ["sg"]),
        n("GlobalMaxPool", ["in"], ["gm"]),
        n("Squeeze", ["gm", "sq"], ["sqz"]),
        n("MatMul", ["sqz", "mw"], ["out"]),
    ], [ints("pads", [0, 0, 1, 1, 0, 0, 1, 1]), ints("sq", [2, 3]), weight("mw", 3, 5)])
    # Typed fields (float_data / int64_data) instead of raw_data, Cast, Identity, Dropout, Tanh.
    seeds["typed_fields"] = model([
        n("Identity", ["in"], ["i"]),
        n("Dropout", ["i"], ["dr"]),
        n("Cast", ["dr"], ["ca"], to=TensorProto.FLOAT),
        n("Tanh", ["ca"], ["th"]),
        n("Mul", ["th", "scale"], ["ms"]),
        n("Flatten", ["ms"], ["f"]),
        n("Reshape", ["f", "shape"], ["out"]),
    ], [helper.make_tensor("scale", TensorProto.FLOAT, [1], [2.0]),
        helper.make_tensor("shape", TensorProto.INT64, [2], [1, -1])])
    # An old opset (Clip and Pad with attributes, initializers listed as inputs).
    graph = helper.make_graph(
        [n("Clip", ["in"], ["c"], min=0.0, max=6.0),
         n("Pad", ["c"], ["p"], pads=[0, 0, 1, 1, 0, 0, 1, 1]),
         n("Conv", ["p", "w"], ["cv"], kernel_shape=[1, 1]),
         n("Flatten", ["cv"], ["out"])], "old",
        [helper.make_tensor_value_info("in", TensorProto.FLOAT, [1, 3, 16, 16]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [2, 3, 1, 1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        initializer=[weight("w", 2, 3, 1, 1)])
    old = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    old.ir_version = 3
    seeds["opset9_initializers_as_inputs"] = old.SerializeToString()
    # Errors the importer must name: an unsupported operator, a missing input, a bad weight size.
    seeds["unsupported_operator"] = model([n("LSTM", ["in"], ["out"])], [])
    seeds["missing_input"] = model([n("Add", ["in", "nowhere"], ["out"])], [])
    bad = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    bad.dims[:] = [4, 3, 3, 3]
    seeds["weight_size_mismatch"] = model([n("Conv", ["in", "w"], ["out"], kernel_shape=[3, 3])], [bad])
    for name, data in seeds.items():
        write(os.path.join(out, "onnx_importer_fuzzer", name + ".onnx"), data)
    return len(seeds)


# ---------------------------------------------------------------- model descriptions
def description_seeds(out):
    seeds = {
        "insightface": {"input_size": [112, 112], "channel_order": "RGB",
                        "mean": [127.5, 127.5, 127.5], "std": [127.5, 127.5, 127.5],
                        "embedding_size": 512},
        "bgr_no_embedding": {"input_size": [96, 112], "channel_order": "BGR",
                             "mean": [0, 0, 0], "std": [255, 255, 255]},
        "floats": {"input_size": [112.0, 112.0], "channel_order": "RGB",
                   "mean": [1e-3, 0.5, 1e3], "std": [0.25, 1, 2], "embedding_size": 128},
        "bad_order": {"input_size": [112, 112], "channel_order": "YUV",
                      "mean": [0, 0, 0], "std": [1, 1, 1]},
    }
    for name, doc in seeds.items():
        write(os.path.join(out, "model_description_fuzzer", name + ".json"), json.dumps(doc))
    write(os.path.join(out, "model_description_fuzzer", "not_object.json"), "[1, 2, 3]")
    return len(seeds) + 1


# ---------------------------------------------------------------- location patterns
def pattern_seeds(out):
    patterns = ["best/%u.png", "enroll/person-%05u.png", "100%%/p%x.png", "%-3.2d", "%#o.jpg",
                "%s.png", "a/%d%d", "%+ 08i"]
    for i, pattern in enumerate(patterns):
        write(os.path.join(out, "location_pattern_fuzzer", f"pattern{i}"), pattern)
    return len(patterns)


# ---------------------------------------------------------------- images
def png(image):
    """8-bit grey (H, W) or RGB (H, W, 3) array to PNG bytes."""
    h, w = image.shape[:2]
    colour = 2 if image.ndim == 3 else 0
    raw = b"".join(b"\x00" + image[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def bmp(image):
    """8-bit BGR (H, W, 3) array to a 24-bit BMP."""
    h, w = image.shape[:2]
    row = (w * 3 + 3) // 4 * 4
    pixels = b"".join(image[y].tobytes().ljust(row, b"\x00") for y in range(h - 1, -1, -1))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def image_seeds(out, face_dir, faces):
    rng = np.random.default_rng(1)
    target = os.path.join(out, "image_input_fuzzer")
    y, x = np.mgrid[0:24, 0:32]
    gradient = np.stack([x * 8, y * 10, (x + y) * 4], axis=-1).astype(np.uint8)
    seeds = {
        "gradient.png": png(gradient),
        "grey.png": png((y * 10).astype(np.uint8)),
        "noise.bmp": bmp(rng.integers(0, 256, (10, 13, 3), dtype=np.uint8)),
        "tiny.ppm": b"P6 3 2 255\n" + bytes(range(18)),
        "grey.pgm": b"P5 4 4 255\n" + bytes(range(0, 256, 16)),
        # the model's input size: the CLI scores such an image as an aligned face
        "aligned_size.png": png(np.full((112, 112, 3), 128, np.uint8)),
    }
    for name, data in seeds.items():
        write(os.path.join(target, name), data)
    copied = 0
    if face_dir and os.path.isdir(face_dir):
        for name in sorted(os.listdir(face_dir))[:faces]:
            shutil.copyfile(os.path.join(face_dir, name), os.path.join(target, "face_" + name))
            copied += 1
    return len(seeds) + copied


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("output_dir")
    parser.add_argument("--face-dir", help="a folder of face photos to copy as image seeds")
    parser.add_argument("--faces", type=int, default=4)
    args = parser.parse_args()
    counts = {
        "onnx_importer_fuzzer": onnx_seeds(args.output_dir),
        "model_description_fuzzer": description_seeds(args.output_dir),
        "location_pattern_fuzzer": pattern_seeds(args.output_dir),
        "image_input_fuzzer": image_seeds(args.output_dir, args.face_dir, args.faces),
    }
    for name, count in counts.items():
        print(f"{name}: {count} seeds")


if __name__ == "__main__":
    main()
