"""The shipped digits CNNs as torch modules: built from the zoo's tables, trained on the CPU
(seeded, deterministic, seconds), and cached in the user's cache directory.

``digits_module(name)`` builds the module of ``loopnest.workload.zoo.digits.DIGITS_CNNS[name]``
with the same layer names as the loopnest network of that table (``conv1``, ``dw2``, ``fc``),
so the torch importer gives back the zoo network. ``trained_digits(name)`` returns the module
with trained weights: read from ``<cache>/digits/<name>-<key>.pt`` or, when that file is missing
or unreadable, trained and written there. The key hashes the table, the training settings and
the torch version, so a change to any of them trains afresh instead of reusing stale weights.
The cache directory is ``$LOOPNEST_CACHE_DIR``, else ``$XDG_CACHE_HOME/loopnest``, else
``~/.cache/loopnest``.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from loopnest.codesign import CodesignError
from loopnest.workload.zoo.digits import CLASSES, DIGITS_CNNS, SIZE

CACHE_ENV = "LOOPNEST_CACHE_DIR"
FORMAT = 1  # bump when the cached file's layout changes


@dataclass(frozen=True)
class TrainConfig:
    """Adam on cross-entropy with a cosine-decaying learning rate from ``lr``, mini-batches of
    ``batch`` images in a seeded shuffle each epoch."""

    epochs: int = 15
    batch: int = 32
    lr: float = 3e-3
    seed: int = 0


def cache_dir() -> Path:
    """Where trained weights are kept (see the module docstring for the order of the choices)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "loopnest"


def check_model(name: str) -> str:
    """``name`` as a digits CNN name (case, '-' and '_' ignored), or a CodesignError listing them."""
    from loopnest.workload.zoo import find_model

    found = find_model(name)
    if found not in DIGITS_CNNS:
        raise CodesignError(f"unknown model {name!r}; the trained models are {', '.join(DIGITS_CNNS)}")
    return found


def digits_module(name: str):
    """An untrained torch module of the digits CNN ``name`` (He-initialised convolutions, torch's
    default for ``fc``), drawn from torch's global random state."""
    import torch
    from torch import nn

    spec = DIGITS_CNNS[check_model(name)]

    class DigitsNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.steps = spec.steps
            c, hw = 1, SIZE
            for step in spec.steps:
                kind = step[0]
                if kind == "conv":
                    self.add_module(step[1], nn.Conv2d(c, step[2], step[3], padding=step[3] // 2))
                    c = step[2]
                elif kind == "dw":
                    self.add_module(step[1], nn.Conv2d(c, c, step[2], padding=step[2] // 2, groups=c))
                elif kind == "res":
                    for label in step[1:3]:
                        self.add_module(label, nn.Conv2d(c, c, step[3], padding=step[3] // 2))
                else:
                    self.add_module(step[1], nn.MaxPool2d(2, 2))
                    hw //= 2
            self.fc = nn.Linear(c * hw * hw, CLASSES)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):  # He init keeps the plain 8-layer net trainable
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            for step in self.steps:
                if step[0] in ("conv", "dw"):
                    x = torch.relu(getattr(self, step[1])(x))
                elif step[0] == "res":
                    y = torch.relu(getattr(self, step[1])(x))
                    x = torch.relu(x + getattr(self, step[2])(y))
                else:
                    x = getattr(self, step[1])(x)
            return self.fc(torch.flatten(x, 1))

    DigitsNet.__name__ = DigitsNet.__qualname__ = name.replace("-", "_")
    return DigitsNet()


def cache_path(name: str, config: TrainConfig = TrainConfig()) -> Path:
    """The cache file of ``name`` trained with ``config`` (see the module docstring)."""
    import torch

    name = check_model(name)
    key = json.dumps({"format": FORMAT, "steps": DIGITS_CNNS[name].steps, "config": asdict(config),
                      "torch": torch.__version__.split("+")[0]}, sort_keys=True)
    return cache_dir() / "digits" / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.pt"


def trained_digits(name: str, config: TrainConfig = TrainConfig()):
    """The digits CNN ``name`` with trained weights, in eval mode: from the cache, or trained now."""
    import torch

    path = cache_path(name, config)
    module = digits_module(name)
    try:
        module.load_state_dict(torch.load(path, weights_only=True))
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError):  # missing, damaged, another layout
        module = train(name, config)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            torch.save(module.state_dict(), tmp)
            os.replace(tmp, path)  # readers never see a half-written file
        except OSError as e:  # a read-only cache costs a retraining next time, nothing else
            warnings.warn(f"{path}: cannot cache the trained weights ({e.strerror}); set {CACHE_ENV} to a writable directory",
                          stacklevel=2)
    return module.eval()


def train(name: str, config: TrainConfig = TrainConfig()):
    """The digits CNN ``name`` initialised and trained on the digits' train split, seeded by
    ``config.seed``: the same config gives the same weights bit for bit."""
    from loopnest.codesign.accuracy import fit
    from loopnest.codesign.data import load_digits
    from loopnest.codesign.determinism import deterministic

    with deterministic(config.seed):
        module = digits_module(name)
        fit(module, load_digits().train, config.epochs, config.lr, config.batch, config.seed)
    return module


def digits_workload(name: str, config: TrainConfig = TrainConfig()):
    """(trained module, loopnest network, data splits) of the digits CNN ``name``: what a study needs."""
    from loopnest.codesign.data import load_digits
    from loopnest.workload.zoo.digits import build

    name = check_model(name)
    return trained_digits(name, config), build(name), load_digits()
