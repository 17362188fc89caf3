"""Train CAREamics CARE on exported arrays and write its test predictions (peer venv only).

Runs inside the peer virtual environment (benchmarks/studies/peer_tools/setup_env.sh), never in emkit's:
it imports only CAREamics, Lightning, torch and numpy. CAREamics' own code is used
unmodified: its configuration factory, ``CAREamist.train`` and ``CAREamist.predict``. The
only addition is a Lightning callback that saves a checkpoint after the optimiser steps
the benchmark reports, so one training run yields the model at 30/90/180 steps; each
checkpoint is then predicted through ``CAREamist.predict(checkpoint=...)``.

The last step must complete at least one CAREamics epoch (its validation feeds CAREamics'
early-stopping callback, which fails without it): 48 steps is enough for 24 images of 128²
in 64² patches, 12 is not.

Input folder (written by benchmarks/studies/peers.py): ``train_x.npy``, ``train_y.npy``,
``val_x.npy``, ``val_y.npy``, ``test_x.npy``: float32 (N, H, W) in [0, 1].
Output folder: ``pred_step{N}.npy`` (float32 (N, H, W), the restored test images in the
same [0, 1] units) and ``info.json`` (params, wall times, versions).

    python drive_care.py --data DIR --out DIR --seed 0 --steps 30,90,180 --channels 32
"""

from __future__ import annotations

import json
import shutil
import time

import numpy as np

from driver_args import driver_parser, setup


def main() -> None:
    ap = driver_parser(__doc__)
    ap.add_argument("--patch", type=int, default=64, help="CARE training patch side (CAREamics' usual 64)")
    ap.add_argument("--channels", type=int, default=32, help="UNet num_channels_init (CAREamics default 32)")
    ap.add_argument("--depth", type=int, default=2, help="UNet depth (CAREamics default 2)")
    args = ap.parse_args()

    import careamics
    import lightning
    import torch
    from careamics import CAREamist
    from careamics.config import create_advanced_care_config
    from lightning.pytorch.callbacks import Callback

    steps = setup(args)
    load = lambda name: np.load(args.data / f"{name}.npy").astype(np.float32)  # noqa: E731
    train_x, train_y, val_x, val_y, test_x = (load(n) for n in ("train_x", "train_y", "val_x", "val_y", "test_x"))

    config = create_advanced_care_config(
        experiment_name=f"care_c{args.channels}_s{args.seed}",
        data_type="array",
        axes="SYX",
        patch_size=[args.patch, args.patch],
        batch_size=args.batch,
        num_epochs=10_000,  # the step budget below ends training
        trainer_params={"max_steps": steps[-1], "accelerator": "cpu", "enable_model_summary": False,
                        "log_every_n_steps": 10},
        model_params={"num_channels_init": args.channels, "depth": args.depth},
        optimizer="Adam",
        optimizer_params={"lr": args.lr},
        # CAREamics stops CARE early by default (validation loss, Lightning's patience of 3
        # epochs); every tool here trains the same number of steps, so it is off. It never
        # triggered on data seed 0; on data seed 1 at lr 1e-3 it stopped at step 143.
        early_stopping_params={},
        num_workers=0,
        logger="none",
        seed=args.seed + 1,  # CAREamics requires a seed > 0
    )

    ckpt_dir = args.out / "snapshots"

    class Snapshot(Callback):
        """Save the model after the reported optimiser steps (an observer; changes nothing)."""

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):  # noqa: D102
            if trainer.global_step in steps and not (ckpt_dir / f"step{trainer.global_step}.ckpt").exists():
                trainer.save_checkpoint(ckpt_dir / f"step{trainer.global_step}.ckpt")

    careamist = CAREamist(config, work_dir=args.out / "work", callbacks=[Snapshot()], enable_progress_bar=False)
    params = sum(p.numel() for p in careamist.model.parameters())
    t0 = time.perf_counter()
    careamist.train(train_data=train_x, train_data_target=train_y, val_data=val_x, val_data_target=val_y)
    train_s = time.perf_counter() - t0

    predict_s = 0.0
    for n in steps:
        ckpt = ckpt_dir / f"step{n}.ckpt"
        if not ckpt.exists():
            raise SystemExit(f"drive_care: no checkpoint after {n} steps in {ckpt_dir} (training stopped early?)")
        t1 = time.perf_counter()
        preds, _ = careamist.predict(test_x, axes="SYX", data_type="array", batch_size=args.batch, checkpoint=ckpt)
        predict_s += time.perf_counter() - t1
        pred = np.concatenate([np.asarray(p, dtype=np.float32).reshape(-1, *test_x.shape[1:]) for p in preds])
        if pred.shape != test_x.shape:
            raise SystemExit(f"drive_care: prediction shape {pred.shape} != test images {test_x.shape}")
        np.save(args.out / f"pred_step{n}.npy", pred)

    for folder in (ckpt_dir, args.out / "work"):  # checkpoints are large; the predictions are what counts
        shutil.rmtree(folder, ignore_errors=True)
    info = {
        "tool": "CAREamics CARE", "params": params, "train_s": train_s, "predict_s": predict_s,
        "steps": steps, "seed": args.seed, "patch": args.patch, "channels": args.channels, "depth": args.depth,
        "versions": {"careamics": careamics.__version__, "lightning": lightning.__version__,
                     "torch": torch.__version__, "numpy": np.__version__},
    }
    (args.out / "info.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info))


if __name__ == "__main__":
    main()
