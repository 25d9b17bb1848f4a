"""A torch run to move to MindSpore mid-training (README, "Moving a training run").

Writes, in the current folder:
  run.pt     the model and the RMSprop optimizer after 5 steps: {"model": ..., "optimizer": ...}
  grads.npz  the gradients of the next 20 steps, in the format `rmsport compare --grads` reads
"""

import numpy as np
import torch


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 3)
        self.bn = torch.nn.BatchNorm1d(3)
        self.fc2 = torch.nn.Linear(3, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.bn(self.fc1(x))))


torch.manual_seed(0)
x, y = torch.randn(16, 4), torch.randn(16, 1)
model = Net()
opt = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9)


def train_step() -> None:
    opt.zero_grad()
    ((model(x) - y) ** 2).mean().backward()


for _ in range(5):
    train_step()
    opt.step()
torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, "run.pt")

# Recording gradients for `rmsport compare --grads` (the five lines the README shows):
rec = {f"param/{n}": p.detach().cpu().numpy().copy() for n, p in model.named_parameters()}
for _ in range(20):
    train_step()
    for n, p in model.named_parameters():
        rec.setdefault(f"grad/{n}", []).append(p.grad.detach().cpu().numpy().copy())
    opt.step()
np.savez("grads.npz", **{k: np.stack(v) if isinstance(v, list) else v for k, v in rec.items()})
print("wrote run.pt and grads.npz")
