"""HRNet arms of the pretext study: the bare main job's generator and its variants.

``emkit run pretext=pix2pix generator=hrnet`` with its defaults (3 × 60 steps of 8 crops
of 128² on the default mix) is the main job; here it runs once per seed on the mix with
data seed 1 (other images than the downstream sets), and HRNet is fine-tuned from it on
every downstream task, next to random init and to ``init=self`` (the pretext on the task's
own 24 images). Variants (particle segmentation only, the task where the main job's
generator started behind random init), each a candidate fix: the former main job (the
generator started from pix2pix's N(0, 0.02) init); a fresh segmentation head, also
trained alone for its first steps (LP-FT); a cheaper, longer pretext (64² crops, 2.5 ×
the steps in about the same time); and ``pretext=restore`` for the same wall time (its
steps scaled by the measured seconds per step): the GAN ablation of the main job.
"""

from __future__ import annotations

from benchmarks.studies.dwidth_transfer import MIX_SEED1
from benchmarks.studies.pretext_tools.arms import PEER_TASKS, Arm, Section, equal_time_steps

#: The bare run's budget (the pretexts' train_defaults): epochs × steps per epoch.
BARE_EPOCHS, BARE_STEPS = 3, 60
BARE = ["generator=hrnet", "data=mix", MIX_SEED1]
HRTEM = ("hrtem-segmentation",)
#: The cheaper, longer pretext: 64² crops cost 0.39 s per HRNet pix2pix step against 1.00 s
#: for 128² (batch 8, two threads), so 150 steps per epoch take about the bare run's time.
CHEAP_CROP, CHEAP_STEPS = 64, 150


def corpus(speed: dict | None) -> dict[str, list[str]]:
    """Corpus pretext runs: name -> overrides (one run per seed)."""
    runs = {"bare-pix2pix": ["pretext=pix2pix", *BARE, "pretext.random_init=default"],
            "bare-pix2pix-p2pinit": ["pretext=pix2pix", *BARE, "pretext.random_init=pix2pix"],
            "bare-pix2pix-c64": ["pretext=pix2pix", *BARE, "pretext.random_init=default", f"pretext.crop={CHEAP_CROP}",
                                 f"train.steps_per_epoch={CHEAP_STEPS}"]}
    if speed:
        steps = equal_time_steps(BARE_STEPS, speed, "restore")
        runs["bare-restore"] = ["pretext=restore", *BARE, "pretext.random_init=default",
                                f"train.epochs={BARE_EPOCHS}", f"train.steps_per_epoch={steps}"]
    return runs


def hrnet_section(speed: dict | None, tasks: tuple[str, ...]) -> Section:
    bare = "the bare `emkit run pretext=pix2pix generator=hrnet`"
    arms = [Arm("hrnet-random", "HRNet, random init"),
            Arm("hrnet-bare-pix2pix", f"HRNet from {bare} (generator from PyTorch's default init)", "corpus",
                source="bare-pix2pix", reference="hrnet-random"),
            Arm("hrnet-bare-pix2pix-p2pinit", f"HRNet from {bare} started from pix2pix's N(0, 0.02) (the former main job)",
                "corpus", source="bare-pix2pix-p2pinit", reference="hrnet-random", tasks=HRTEM),
            Arm("hrnet-bare-pix2pix-reset", "HRNet from the bare run, fresh segmentation head (`task.head_init=reset`)",
                "corpus", source="bare-pix2pix", finetune=("segmentation:task.head_init=reset",),
                reference="hrnet-random", tasks=HRTEM),
            Arm("hrnet-bare-pix2pix-reset-lpft", "HRNet from the bare run, fresh segmentation head trained alone for "
                "the first 6 steps (`task.head_init=reset train.head_first_steps=6`)", "corpus", source="bare-pix2pix",
                finetune=("segmentation:task.head_init=reset", "segmentation:train.head_first_steps=6"),
                reference="hrnet-random", tasks=HRTEM),
            Arm("hrnet-bare-c64", f"HRNet from the bare run with {CHEAP_CROP}² crops and "
                f"{BARE_EPOCHS * CHEAP_STEPS} steps (about the same wall time)", "corpus",
                source="bare-pix2pix-c64", reference="hrnet-random", tasks=HRTEM),
            Arm("hrnet-self-pix2pix", "HRNet, `init=self` pix2pix, 300 steps (pretext on the task's own 24 images)",
                "self", "pix2pix", 300, reference="hrnet-random", tasks=PEER_TASKS)]
    if speed:
        steps = BARE_EPOCHS * equal_time_steps(BARE_STEPS, speed, "restore")
        arms.append(Arm("hrnet-bare-restore", f"HRNet from the bare run with `pretext=restore` ({steps} steps, the "
                        "same wall time)", "corpus", source="bare-restore", reference="hrnet-random", tasks=HRTEM))
    contrasts = (("hrnet-bare-pix2pix", "hrnet-bare-pix2pix-p2pinit"), ("hrnet-bare-pix2pix-reset", "hrnet-bare-pix2pix"),
                 ("hrnet-bare-restore", "hrnet-bare-pix2pix"), ("hrnet-bare-c64", "hrnet-bare-pix2pix"),
                 ("hrnet-self-pix2pix", "hrnet-bare-pix2pix"), ("hrnet-bare-pix2pix-reset-lpft", "hrnet-bare-pix2pix-reset"))
    return Section("hrnet", "HRNet: the bare main job's generator", "hrnet", tasks, tuple(arms), contrasts=contrasts)
