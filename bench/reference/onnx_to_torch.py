"""A small ONNX -> torch.nn.Module converter for the reference FaceQAN (bench/reference/).

Covers the operators of the two shipped recognition models:
  mobilefacenet512_faceplugin: Conv, PRelu, Add, Reshape
  mobilefacenet128_foamliu:    Conv, Clip, Add, Relu, Constant, Reshape
Weights become nn.Parameters with requires_grad=True (the reference leaves the model's parameters
trainable). A Reshape to [1, -1] (the exported batch of one) becomes [N, -1].

Also counts the model's multiply-adds per image from the graph's Conv shapes (count_conv_flops).
"""
import onnx
import onnx.numpy_helper
import onnx.shape_inference
import torch
import torch.nn.functional as F

SUPPORTED = {"Conv", "PRelu", "Add", "Reshape", "Clip", "Relu", "Constant"}


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class OnnxModule(torch.nn.Module):
    def __init__(self, model: onnx.ModelProto):
        super().__init__()
        graph = model.graph
        self.params = torch.nn.ParameterDict()
        self.names = {}  # ONNX tensor name -> key in self.params
        self.consts = {}  # small integer constants (Reshape shapes)
        init_names = {i.name for i in graph.initializer}
        for index, init in enumerate(graph.initializer):
            array = onnx.numpy_helper.to_array(init)
            if array.dtype.kind in "iu":
                self.consts[init.name] = [int(v) for v in array.reshape(-1)]
                continue
            key = "p%d" % index
            self.params[key] = torch.nn.Parameter(torch.from_numpy(array.copy()).float(), requires_grad=True)
            self.names[init.name] = key
        self.input_name = [i.name for i in graph.input if i.name not in init_names][0]
        self.output_name = graph.output[0].name
        self.nodes = []
        for node in graph.node:
            if node.op_type not in SUPPORTED:
                raise ValueError("unsupported ONNX operator %s (node %s)" % (node.op_type, node.name))
            attrs = _attrs(node)
            if node.op_type == "Constant":
                array = onnx.numpy_helper.to_array(attrs["value"])
                if array.dtype.kind not in "iu":
                    raise ValueError("only integer Constants (Reshape shapes) are supported")
                self.consts[node.output[0]] = [int(v) for v in array.reshape(-1)]
                continue
            if node.op_type == "Conv":
                if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                    raise ValueError("Conv auto_pad is not supported")
                pads = list(attrs.get("pads", [0, 0, 0, 0]))
                if pads[0] != pads[2] or pads[1] != pads[3]:
                    raise ValueError("asymmetric Conv pads are not supported")
            self.nodes.append((node.op_type, list(node.input), list(node.output), attrs))

    def _get(self, env, name):
        if name in env:
            return env[name]
        return self.params[self.names[name]]

    def forward(self, x):
        env = {self.input_name: x}
        for op, inputs, outputs, attrs in self.nodes:
            if op == "Conv":
                weight = self._get(env, inputs[1])
                bias = self._get(env, inputs[2]) if len(inputs) > 2 and inputs[2] else None
                pads = list(attrs.get("pads", [0, 0, 0, 0]))
                y = F.conv2d(env[inputs[0]], weight, bias, stride=tuple(attrs.get("strides", [1, 1])),
                             padding=(pads[0], pads[1]), dilation=tuple(attrs.get("dilations", [1, 1])),
                             groups=attrs.get("group", 1))
            elif op == "PRelu":
                slope = self._get(env, inputs[1])
                y = F.prelu(env[inputs[0]], slope.reshape(-1))
            elif op == "Add":
                y = self._get(env, inputs[0]) + self._get(env, inputs[1])
            elif op == "Relu":
                y = F.relu(env[inputs[0]])
            elif op == "Clip":
                if "min" in attrs or "max" in attrs:
                    lo, hi = attrs.get("min", None), attrs.get("max", None)
                else:
                    lo = float(self._get(env, inputs[1])) if len(inputs) > 1 and inputs[1] else None
                    hi = float(self._get(env, inputs[2])) if len(inputs) > 2 and inputs[2] else None
                y = torch.clamp(env[inputs[0]], min=lo, max=hi)
            elif op == "Reshape":
                shape = list(self.consts[inputs[1]])
                source = env[inputs[0]]
                if shape[0] == 1 or shape[0] == 0:  # the exported batch of one -> [N, ...]
                    shape[0] = source.shape[0]
                y = source.reshape(shape)
            env[outputs[0]] = y
        return env[self.output_name]


def load_onnx_as_torch(path: str) -> torch.nn.Module:
    return OnnxModule(onnx.load(path))


def count_conv_flops(path: str):
    """(FLOPs per image, conv count): 2 * multiply-adds of every Conv, from inferred shapes."""
    model = onnx.shape_inference.infer_shapes(onnx.load(path))
    graph = model.graph
    shapes = {}
    for value in list(graph.value_info) + list(graph.output) + list(graph.input):
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        shapes[value.name] = dims
    weights = {i.name: list(i.dims) for i in graph.initializer}
    flops = 0
    convs = 0
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        out = shapes[node.output[0]]  # [1, Cout, H, W]
        w = weights[node.input[1]]  # [Cout, Cin/group, kh, kw]
        macs = out[1] * out[2] * out[3] * w[1] * w[2] * w[3]
        flops += 2 * macs
        convs += 1
    return flops, convs
