"""Train an AtomAI Segmentor on exported arrays and write its test predictions (peer venv only).

Runs inside the peer virtual environment (benchmarks/studies/peer_tools/setup_env.sh): it imports only
AtomAI, torch and numpy. AtomAI's own code is used unmodified: ``Segmentor(...)``,
``Segmentor.fit`` (one "training cycle" is one mini-batch, i.e. one optimiser step) and
``Segmentor.predict``. The only addition is an observer: a subclass whose ``step`` calls
AtomAI's and then keeps a copy of the weights after the reported steps, so one training
run yields the model at 30/90/180 steps; each copy is loaded and predicted with AtomAI's
``predict``.

Images are min-max scaled over the stack before training because AtomAI's ``predict``
does exactly that to its input (``norm=True``) while ``fit`` does not; masks are {0, 1}.

Input folder: ``train_x.npy``, ``train_y.npy`` (masks), ``val_x.npy``, ``val_y.npy``,
``test_x.npy``: (N, H, W). Output: ``prob_step{N}.npy`` (float32 (N, H, W) particle
probabilities of the test images) and ``info.json``.

    python drive_atomai.py --data DIR --out DIR --seed 0 --steps 30,90,180 --filters 16
"""

from __future__ import annotations

import copy
import json
import time

import numpy as np

from driver_args import driver_parser, setup


def scale(x: np.ndarray) -> np.ndarray:
    """Min-max over the whole stack, as AtomAI's predict-time preprocessing does."""
    x = x.astype(np.float32)
    return (x - x.min()) / max(float(np.ptp(x)), 1e-12)


def main() -> None:
    ap = driver_parser(__doc__)
    ap.add_argument("--filters", type=int, default=16, help="Unet nb_filters (AtomAI default 16)")
    args = ap.parse_args()

    import atomai
    import torch
    from atomai.models import Segmentor

    steps = setup(args)
    load = lambda name: np.load(args.data / f"{name}.npy")  # noqa: E731
    train_x, val_x, test_x = scale(load("train_x")), scale(load("val_x")), load("test_x").astype(np.float32)
    train_y, val_y = load("train_y").astype(np.float32), load("val_y").astype(np.float32)

    snapshots: dict[int, dict] = {}

    class ObservedSegmentor(Segmentor):
        """AtomAI's Segmentor; ``step`` additionally keeps the weights after chosen steps."""

        def step(self, e: int) -> None:  # noqa: D102
            super().step(e)
            if e + 1 in steps:
                snapshots[e + 1] = copy.deepcopy(self.net.state_dict())

    model = ObservedSegmentor("Unet", nb_classes=1, nb_filters=args.filters, seed=args.seed)
    params = sum(p.numel() for p in model.net.parameters())
    t0 = time.perf_counter()
    model.fit(train_x, train_y, val_x, val_y, loss="ce",
              optimizer=lambda p: torch.optim.Adam(p, lr=args.lr),
              training_cycles=steps[-1], batch_size=args.batch, print_loss=max(steps[-1], 1),
              filename=str(args.out / "atomai_model"))
    train_s = time.perf_counter() - t0

    predict_s = 0.0
    for n in steps:
        model.net.load_state_dict(snapshots[n])
        t1 = time.perf_counter()
        prob = model.predict(test_x, compute_coords=False, verbose=False)
        predict_s += time.perf_counter() - t1
        prob = np.asarray(prob, dtype=np.float32).reshape(test_x.shape)
        np.save(args.out / f"prob_step{n}.npy", prob)

    info = {
        "tool": "AtomAI Segmentor", "params": params, "train_s": train_s, "predict_s": predict_s,
        "steps": steps, "seed": args.seed, "filters": args.filters,
        "versions": {"atomai": getattr(atomai, "__version__", "?"), "torch": torch.__version__,
                     "numpy": np.__version__},
    }
    (args.out / "info.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info))


if __name__ == "__main__":
    main()
