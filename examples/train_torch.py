"""A small PyTorch training script, as people write them.

Try: rmsport convert --diff examples/train_torch.py
"""

import argparse

import torch
import torch.nn as nn
import torch.optim as optim


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(20, 64)
        self.bn = nn.BatchNorm1d(64)
        self.fc2 = nn.Linear(64, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


def make_optimizer(model: nn.Module, args) -> optim.Optimizer:
    if args.optimizer == "adam":
        return optim.Adam(model.parameters(), lr=args.lr)
    # RMSprop as in the DQN paper: small eps, centered
    return optim.RMSprop(
        model.parameters(),
        args.lr,  # learning rate from the command line
        alpha=0.95,
        eps=1e-2,
        momentum=0,
        centered=True,
        foreach=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--optimizer", default="rmsprop")
    parser.add_argument("--lr", type=float, default=2.5e-4)
    args = parser.parse_args()

    model = Net()
    optimizer = make_optimizer(model, args)
    # a second optimizer for the head, with torch's defaults
    head_optimizer = torch.optim.RMSprop(model.fc2.parameters(), weight_decay=1e-4)
    loss_fn = nn.MSELoss()
    for step in range(100):
        x, y = torch.randn(32, 20), torch.randn(32, 1)
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        head_optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        head_optimizer.step()
        if step % 20 == 0:
            print(f"step {step}: loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
