"""The arms of the pretext study: what each row of its tables trains, grouped in sections.

An arm is one way to start fine-tuning: random init, ``init=self`` with a pretext and a
step budget (the pretext stage on the task's own 24 training images, optionally pooled
with unlabeled images of the same kind), the pretext stage of another arm (the
frozen-feature probe, a head setting), or a pretext run on a corpus (HRNet's bare run).
Every arm runs for every seed; ``shared`` arms pretrain once (seed 0) and fine-tune every
seed from that stage, so their spread is the fine-tuning's only (the long budgets).
"""

from __future__ import annotations

import dataclasses

PRETEXTS = ("pix2pix", "restore", "masked")
#: Side of the pretext crops of the small U-Net's stages (its receptive field is 44 px).
PRETEXT_CROP = 64
#: The tasks of the peer comparison (STEM restoration, HRTEM segmentation): the variants run there only.
PEER_TASKS = ("stem-background-removal", "hrtem-segmentation")
#: Unlabeled images of the task's kind pooled with the 24 training images (unlabeled arms).
UNLABELED = 300


@dataclasses.dataclass(frozen=True)
class Arm:
    key: str
    label: str
    #: random | self (init=self) | stage (the pretext stage of arm ``source``, same seed)
    #: | corpus (the pretext run ``source`` of corpus.py, same seed)
    init: str = "random"
    pretext: str | None = None
    steps: int | None = None
    #: Extra pretext options, YAML ``key: value`` (``fill: noise``).
    options: tuple[str, ...] = ()
    shared: bool = False
    unlabeled: int = 0
    source: str | None = None
    #: Extra fine-tuning overrides; ``<task kind>:key=value`` applies to that kind only
    #: (``segmentation:task.head_init=reset``).
    finetune: tuple[str, ...] = ()
    #: The arm the paired table subtracts (P − R per seed).
    reference: str = "random"
    #: Only these tasks (empty: every task of its section).
    tasks: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Section:
    key: str
    title: str
    generator: str  # "small" (U-Net B2 w8) or "hrnet"
    tasks: tuple[str, ...]
    arms: tuple[Arm, ...]
    #: Arms of earlier sections shown in this section's tables too (not rerun).
    also: tuple[str, ...] = ()
    note: str = ""
    #: Extra paired rows (arm, reference): e.g. restore − pix2pix, the GAN ablation.
    contrasts: tuple[tuple[str, str], ...] = ()


def self_arm(pretext: str, steps: int, *, tag: str = "", shared: bool = False, unlabeled: int = 0,
             options: tuple[str, ...] = (), label: str = "") -> Arm:
    key = f"{pretext}-{steps}{tag}"
    text = label or f"`init=self` {pretext}, {steps} steps" + (" (one stage, seed 0)" if shared else "")
    return Arm(key, text, "self", pretext, steps, options, shared, unlabeled)


def equal_time_steps(budget: int, speed: dict[str, float], pretext: str) -> int:
    """Steps of ``pretext`` that take the wall time of ``budget`` pix2pix steps."""
    return max(1, round(budget * speed["pix2pix"] / speed[pretext]))


def small_sections(speed: dict[str, float], budget: int, long_budgets: tuple[int, ...],
                   long_pretexts: tuple[str, ...], tasks: tuple[str, ...]) -> list[Section]:
    """The small U-Net's sections: pretexts at equal steps and time, probe, budgets, unlabeled data."""
    main = [Arm("random", "random init")] + [self_arm(p, budget) for p in PRETEXTS]
    main.append(self_arm("pix2pix", budget, tag="-p2pinit", options=("random_init: pix2pix",),
                         label=f"`init=self` pix2pix, {budget} steps, from pix2pix's N(0, 0.02) init"))
    equal = [self_arm(p, equal_time_steps(budget, speed, p), tag="t",
                      label=f"`init=self` {p}, {equal_time_steps(budget, speed, p)} steps (= {budget} pix2pix steps' time)")
             for p in PRETEXTS if p != "pix2pix"]
    probe = [Arm("probe-random", "random features, head only (`train.freeze=body`)", finetune=("train.freeze=body",),
                 tasks=PEER_TASKS)]
    probe += [Arm(f"probe-{p}", f"{p} features ({budget} steps), head only", "stage", source=f"{p}-{budget}",
                  finetune=("train.freeze=body",), reference="probe-random", tasks=PEER_TASKS) for p in PRETEXTS]
    masked = [dataclasses.replace(arm, tasks=PEER_TASKS) for arm in (
        self_arm("masked", budget, tag="-noise", options=("fill: noise",),
                 label=f"`init=self` masked, fill=noise (mask not given), {budget} steps"),
        self_arm("masked", budget, tag="-degrade", options=("degrade_input: true",),
                 label=f"`init=self` masked + degradation, {budget} steps"))]
    tuning = [Arm("restore-bnupdate", f"restore features ({budget} steps), BatchNorm statistics updated "
                  "(`train.norm_stats=update`)", "stage", source=f"restore-{budget}",
                  finetune=("train.norm_stats=update",), tasks=("stem-background-removal",)),
              Arm("restore-headreset", f"restore features ({budget} steps), fresh head (`task.head_init=reset`)",
                  "stage", source=f"restore-{budget}", finetune=("task.head_init=reset",),
                  tasks=("hrtem-segmentation",))]
    longer = [self_arm(p, b, tag="s", shared=True) for b in long_budgets for p in long_pretexts]
    unlab = [self_arm(p, b, tag="s-unlab", shared=True, unlabeled=UNLABELED,
                      label=f"`init=self` {p}, {b} steps, + {UNLABELED} unlabeled images (one stage, seed 0)")
             for b in long_budgets[:1] for p in long_pretexts]
    return [
        Section("pretexts", "pretexts at equal steps and equal wall time", "small", tasks, tuple(main + equal),
                contrasts=((f"restore-{budget}", f"pix2pix-{budget}"), (equal[0].key, f"pix2pix-{budget}"),
                           (f"masked-{budget}", f"pix2pix-{budget}"), (equal[1].key, f"pix2pix-{budget}"),
                           (f"pix2pix-{budget}", f"pix2pix-{budget}-p2pinit"))),
        Section("probe", "frozen-feature probe: only the output head learns", "small", tasks, tuple(probe),
                note="P − R here subtracts the random-features probe."),
        Section("masked", "masked-image modelling variants", "small", tasks, tuple(masked),
                also=("random", f"masked-{budget}")),
        Section("tuning", "fine-tuning settings for a pretrained body", "small", tasks, tuple(tuning),
                also=("random", f"restore-{budget}"),
                contrasts=(("restore-bnupdate", f"restore-{budget}"), ("restore-headreset", f"restore-{budget}"))),
        Section("budget", "pretext budget", "small", tasks, tuple(longer),
                also=("random", *(f"{p}-{budget}" for p in long_pretexts))),
        Section("unlabeled", "unlabeled data: the 24 training images vs those plus unlabeled ones", "small", tasks,
                tuple(unlab), also=("random", *(a.key for a in longer[:len(long_pretexts)]))),
    ]
