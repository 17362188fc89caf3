"""HRNet arms of the pretext study: the bare main job's generator and its variants.

``emkit run pretext=pix2pix generator=hrnet`` with its defaults (3 × 60 steps of 8 crops
of 128² on the default mix) is the main job; here it runs once per seed on the mix with
data seed 1 (other images than the downstream sets), and HRNet is fine-tuned from it on
every downstream task, next to random init: with the pretrained restoration head kept
for segmentation (the old default) and with a fresh one. ``bare-restore`` is the same
run with ``pretext=restore`` for the same wall time (its steps scaled by the measured
seconds per step), the GAN ablation of the main job.
"""

from __future__ import annotations

from benchmarks.studies.dwidth_transfer import MIX_SEED1
from benchmarks.studies.pretext_tools.arms import Arm, Section, equal_time_steps

#: The bare run's budget (pix2pix's train_defaults): epochs × steps per epoch.
BARE_EPOCHS, BARE_STEPS = 3, 60


def corpus(speed: dict | None) -> dict[str, list[str]]:
    """Corpus pretext runs: name -> overrides (one run per seed)."""
    runs = {"bare-pix2pix": ["pretext=pix2pix", "generator=hrnet", "data=mix", MIX_SEED1]}
    if speed:
        steps = equal_time_steps(BARE_STEPS, speed, "restore")
        runs["bare-restore"] = ["pretext=restore", "generator=hrnet", "data=mix", MIX_SEED1,
                                f"train.epochs={BARE_EPOCHS}", f"train.steps_per_epoch={steps}"]
    return runs


def hrnet_section(speed: dict | None, tasks: tuple[str, ...]) -> Section:
    keep, reset = "segmentation:task.head_init=keep", "segmentation:task.head_init=reset"
    arms = [Arm("hrnet-random", "HRNet, random init"),
            Arm("hrnet-bare-pix2pix", "HRNet from the bare `emkit run pretext=pix2pix generator=hrnet`, "
                "segmentation keeping the pretrained head", "corpus", source="bare-pix2pix", finetune=(keep,),
                reference="hrnet-random"),
            Arm("hrnet-bare-pix2pix-reset", "the same, segmentation with a fresh output head "
                "(`task.head_init=reset`)", "corpus", source="bare-pix2pix", finetune=(reset,),
                reference="hrnet-random")]
    if speed:
        steps = BARE_EPOCHS * equal_time_steps(BARE_STEPS, speed, "restore")
        arms.append(Arm("hrnet-bare-restore-reset", f"HRNet from the bare run with `pretext=restore` ({steps} steps, "
                        "the same wall time), fresh segmentation head", "corpus", source="bare-restore",
                        finetune=(reset,), reference="hrnet-random"))
    return Section("hrnet", "HRNet: the bare main job's generator", "hrnet", tasks, tuple(arms))
