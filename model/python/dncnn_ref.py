"""Eager PyTorch reference of KAIR's DnCNN (models/network_dncnn.py, act_mode "BR").

Written from KAIR's description: one nn.Sequential "model" of conv + ReLU,
nb - 2 times conv + BatchNorm2d(momentum=0.9, eps=1e-4) + ReLU, and a last
conv, every conv 3x3 with bias; the output is x - model(x) (residual
learning). The state-dict keys are KAIR's. ludvae's tests load ludvae's
state dict into it with strict=True and compare the forward pass and one
Adam training step (lr 1e-4) in float64.

usage: dncnn_ref.py step STATE_DICT INPUTS LOSS OUT
  INPUTS holds "noisy" and "clean" (N,C,H,W), LOSS is "l1" or "l2"; OUT gets
  the eval-mode output, the train-mode output and loss, every gradient, the
  parameters and buffers after one Adam step, and the parameter count.
"""
import os
import sys

import torch
import torch.nn as nn


class DnCNN(nn.Module):
    def __init__(self, in_nc=3, out_nc=3, nc=64, nb=17):
        super().__init__()
        layers = [nn.Conv2d(in_nc, nc, 3, padding=1, bias=True), nn.ReLU(inplace=True)]
        for _ in range(nb - 2):
            layers += [nn.Conv2d(nc, nc, 3, padding=1, bias=True),
                       nn.BatchNorm2d(nc, momentum=0.9, eps=1e-4, affine=True),
                       nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(nc, out_nc, 3, padding=1, bias=True))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return x - self.model(x)


def from_state_dict(sd):
    """A DnCNN of the size sd implies, loaded strictly, in float64."""
    convs = sorted(int(k.split(".")[1]) for k, v in sd.items() if k.endswith(".weight") and v.dim() == 4)
    first = sd["model.%d.weight" % convs[0]]
    m = DnCNN(first.shape[1], first.shape[1], first.shape[0], len(convs)).double()
    m.load_state_dict(sd, strict=True)
    return m


def step(sd_path, inputs_path, loss_type, out_path):
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    m = from_state_dict(torch.load(sd_path))
    d = torch.load(inputs_path)
    noisy, clean = d["noisy"], d["clean"]
    out = {"params": torch.tensor(sum(p.numel() for p in m.parameters()))}
    m.eval()
    with torch.no_grad():
        out["eval_out"] = m(noisy)
    m.train()
    y = m(noisy)
    lossfn = {"l1": nn.L1Loss(), "l2": nn.MSELoss()}[loss_type]
    loss = lossfn(y, clean)
    loss.backward()
    out["train_out"], out["loss"] = y.detach(), loss.detach()
    for n, p in m.named_parameters():
        out["grad." + n] = p.grad
    torch.optim.Adam(m.parameters(), lr=1e-4).step()
    for n, t in m.state_dict().items():
        out["after." + n] = t
    torch.save(out, out_path)


if __name__ == "__main__":
    if sys.argv[1] != "step":
        raise SystemExit(__doc__)
    step(*sys.argv[2:6])
