#!/usr/bin/python3
"""The measurement behind the scorer's CPU rule (quality/src/faceqan_scorer.cpp, kRuleImagesPerPass
and kRuleChannelsLast; docs/PERFORMANCE.md): for each sub-batch size and both layouts, the sum over
the model's convolutions of the fastest of 7 runs of each (forward + input gradient the project's
way: a oneDNN convolution with flipped filters for stride 1, ATen's convolution_backward for
stride 2), per image, on one thread (the scorer runs one single-threaded chunk per core).
The fastest of several short runs resists other load on a shared machine, where whole-pass timings
do not. Run it twice, as oneDNN's AVX-512 and AVX2 code paths:

  /usr/bin/python3 bench/cpu_convolution_layouts.py [MODEL.onnx]
  ONEDNN_MAX_CPU_ISA=AVX2 /usr/bin/python3 bench/cpu_convolution_layouts.py [MODEL.onnx]
"""
import os
import sys
import time

import onnx
import onnx.helper as h
import onnx.numpy_helper as nh
import onnx.shape_inference
import torch

torch.set_num_threads(1); torch.set_flush_denormal(True)
here = os.path.dirname(os.path.abspath(__file__))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "build", "models", "recognition",
                                                          "mobilefacenet512_faceplugin.onnx")
m = onnx.shape_inference.infer_shapes(onnx.load(path))
shapes = {v.name:[d.dim_value for d in v.type.tensor_type.shape.dim] for v in list(m.graph.value_info)+list(m.graph.input)}
inits = {i.name: torch.from_numpy(nh.to_array(i).copy()) for i in m.graph.initializer}
def tm(f, reps=7):
    f(); best=1e9
    for _ in range(reps):
        t=time.perf_counter(); f(); best=min(best,time.perf_counter()-t)
    return best*1000
cpu = "unknown CPU"
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
print("%s; ONEDNN_MAX_CPU_ISA=%s; %s" % (cpu, os.environ.get("ONEDNN_MAX_CPU_ISA", "(not set: all)"), os.path.basename(path)))
for B in [1,2,3,5,10]:
  tot = {}
  for n in m.graph.node:
    if n.op_type!='Conv': continue
    a={x.name:h.get_attribute_value(x) for x in n.attribute}
    w=inits[n.input[1]].float(); b=inits[n.input[2]].float() if len(n.input)>2 else None
    s=list(shapes[n.input[0]]); s[0]=B
    st=list(a.get('strides',[1,1])); p=list(a.get('pads',[0,0,0,0]))[:2]; g=a.get('group',1)
    O,I,kh,kw=w.shape
    gw=w.reshape(g,O//g,I,kh,kw).transpose(1,2).reshape(g*I,O//g,kh,kw).flip([2,3]).contiguous()
    gp=[kh-1-p[0],kw-1-p[1]]
    for cl in (False, True):
        mf = torch.channels_last if cl else torch.contiguous_format
        x=torch.rand(s).contiguous(memory_format=mf)
        y=torch.ops.aten.mkldnn_convolution(x,w,b,p,st,[1,1],g)
        go=torch.rand_like(y)
        t = tm(lambda: torch.ops.aten.mkldnn_convolution(x,w,b,p,st,[1,1],g))
        if st==[1,1]:
            t += tm(lambda: torch.ops.aten.mkldnn_convolution(go,gw,None,gp,[1,1],[1,1],g))
        else:
            t += tm(lambda: torch.ops.aten.convolution_backward(go,x,w,None,st,p,[1,1],False,[0,0],g,[True,False,False]))
        tot[cl]=tot.get(cl,0)+t
  print("sub-batch %2d: NCHW %.2f ms/image, NHWC %.2f ms/image (convolutions, forward + input gradient)" % (B, tot[False]/B, tot[True]/B), flush=True)
