"""``preset=recommended``: the recipe the pretext study and the peer comparison chose per task
(benchmarks/results/peers_recipe_cpu.md), resolved and run as a user would."""

from __future__ import annotations

import yaml

from emkit.config import resolve


def test_restoration_recipe_pretrains_a_larger_unet_on_the_tasks_own_images():
    for task in ("background-removal", "denoise", "super-resolution"):
        cfg = resolve([f"task={task}", "preset=recommended"])
        assert cfg.plugin_name("generator") == "unet"
        assert (cfg.tree["generator"]["blocks"], cfg.tree["generator"]["width"]) == (3, 16)
        assert cfg.run.init == "self" and cfg.run.pretrain.steps == 300
        assert cfg.run.pretrain.pretext == {"name": "pix2pix", "random_init": "pix2pix"}
        assert cfg.train.keep_best == "val_l1"


def test_segmentation_recipe_is_a_larger_unet_from_random_init():
    cfg = resolve(["task=segmentation", "preset=recommended"])
    assert (cfg.tree["generator"]["blocks"], cfg.tree["generator"]["width"]) == (3, 16)
    assert cfg.run.init == "random" and cfg.train.keep_best == "val_dice"


def test_the_users_settings_win_over_the_recipe():
    cfg = resolve(["task=background-removal", "preset=recommended", "init=random", "pretrain.steps=50",
                   "generator.width=8", "train.keep_best=null"])
    assert cfg.run.init == "random" and cfg.tree["generator"]["width"] == 8 and cfg.train.keep_best is None


def test_a_recipe_run_pretrains_then_keeps_its_best_weights(tmp_path):
    """Tiny sizes; the recipe's own keys (init=self, pix2pix stage, keep_best) do the work."""
    import emkit

    run = emkit.train("task=background-removal", "preset=recommended", "generator.width=4", "generator.blocks=2",
                      "pretrain.steps=2", "pretrain.pretext.crop=32", "data.size=48", "data.length=8",
                      "data.val_length=4", "data.test_length=0", "task.crop=32", "train.epochs=2",
                      "train.batch_size=4", "train.device=cpu", runs_dir=str(tmp_path), name="recipe",
                      progress=False)
    assert run.config["init"] == "self" and run.config["train"]["keep_best"] == "val_l1"
    stage = yaml.safe_load((run.path / "pretrain" / "config.yaml").read_text())
    assert stage["pretext"]["name"] == "pix2pix" and stage["pretext"]["random_init"] == "pix2pix"
    assert (run.path / "best" / "generator.safetensors").exists()
