"""``preset=recommended``: the recipe the peer comparison chose per task
(benchmarks/results/peers_recipe_v2_reading.md), resolved and run as a user would."""

from __future__ import annotations

from emkit.config import resolve


def test_restoration_recipe_is_cares_unet_shape_from_random_init_with_exact_augmentation():
    for task in ("background-removal", "denoise", "super-resolution"):
        cfg = resolve([f"task={task}", "preset=recommended"])
        assert cfg.plugin_name("generator") == "unet"
        assert (cfg.tree["generator"]["blocks"], cfg.tree["generator"]["width"]) == (2, 32)
        assert cfg.run.init == "random"
        assert cfg.tree["task"]["augment"]["exact"] is True and cfg.tree["task"]["augment"]["scale"] == [1.0, 1.0]
        assert cfg.train.lr == 1e-3 and cfg.train.keep_best == "val_l1"


def test_segmentation_recipe_is_a_larger_unet_from_random_init_with_exact_augmentation():
    cfg = resolve(["task=segmentation", "preset=recommended"])
    assert (cfg.tree["generator"]["blocks"], cfg.tree["generator"]["width"]) == (3, 16)
    assert cfg.run.init == "random" and cfg.train.keep_best == "val_dice"
    assert cfg.tree["task"]["augment"]["exact"] is True and cfg.train.lr == 1e-3


def test_the_users_settings_win_over_the_recipe():
    cfg = resolve(["task=background-removal", "preset=recommended", "init=self", "train.lr=2e-4",
                   "generator.width=8", "train.keep_best=null", "task.augment.exact=false"])
    assert cfg.run.init == "self" and cfg.tree["generator"]["width"] == 8 and cfg.train.keep_best is None
    assert cfg.train.lr == 2e-4 and cfg.tree["task"]["augment"]["exact"] is False


def test_a_recipe_run_uses_exact_augmentation_and_keeps_its_best_weights(tmp_path):
    """Tiny sizes; the recipe's own keys (exact augmentation, lr, keep_best) reach the run."""
    import emkit

    run = emkit.train("task=background-removal", "preset=recommended", "generator.width=4", "data.size=48",
                      "data.length=8", "data.val_length=4", "data.test_length=0", "task.crop=32", "train.epochs=2",
                      "train.batch_size=4", "train.device=cpu", runs_dir=str(tmp_path), name="recipe",
                      progress=False)
    assert run.config["task"]["augment"]["exact"] is True and run.config["train"]["lr"] == 1e-3
    assert run.config["train"]["keep_best"] == "val_l1"
    assert (run.path / "best" / "generator.safetensors").exists()
