#!/usr/bin/env python3
"""Where a layer's samples fall, from a JFR recording printed with its stacks.

  jfr print --stack-depth 30 --events jdk.ExecutionSample REC.jfr > REC.txt
  scripts/jfr-breakdown/breakdown.py REC.txt MEDIAN_MS

Each sample is put in one category by its VectorKernels frames (the GEMM micro-kernel, packing of
A or B, else the innermost kernel method) and keyed by the first FavorAttention or FeatureMap method
on its stack (the layer code that made the call). Shares of all samples that reach dev.performer
code, and the same shares of MEDIAN_MS (the bench's median for one pass) as estimated milliseconds.
"""
import collections
import re
import sys

if len(sys.argv) != 3:
    sys.exit("usage: breakdown.py RECORDING.txt MEDIAN_MS")
text = open(sys.argv[1]).read()
median = float(sys.argv[2])
by_key, by_cat, n = collections.Counter(), collections.Counter(), 0
for event in text.split("jdk.ExecutionSample")[1:]:
    m = re.search(r"stackTrace = \[(.*?)\n\s*\]", event, re.S)
    if not m:
        continue
    frames = [re.sub(r"\(.*", "", re.sub(r"\s+line:.*", "", f.strip())) for f in m.group(1).strip().split("\n")]
    frames = [f for f in frames if f.startswith("dev.performer")]
    if not frames:
        continue
    n += 1
    kern = [f.rsplit(".", 1)[1] for f in frames if ".VectorKernels." in f]
    layer = [f.rsplit(".", 1)[1] for f in frames if ".FavorAttention." in f or ".FeatureMap." in f]
    if any(k.startswith("micro") for k in kern):
        cat = "products (micro-kernel)"
    elif any(k.startswith(("pack", "transpose")) for k in kern):
        cat = "packing"
    elif kern:
        cat = kern[0]
    else:
        cat = "layer code"
    by_cat[cat] += 1
    by_key[(cat, layer[0] if layer else "?")] += 1
print(f"{sys.argv[1]}: {n} samples in dev.performer code; ms = share x median {median} ms")
print("by category:")
for c, k in by_cat.most_common():
    print(f"  {100 * k / n:5.1f}%  {median * k / n:7.1f} ms  {c}")
print("by category and calling layer method:")
for (c, f), k in by_key.most_common(30):
    print(f"  {100 * k / n:5.1f}%  {median * k / n:7.1f} ms  {c} <- {f}")
