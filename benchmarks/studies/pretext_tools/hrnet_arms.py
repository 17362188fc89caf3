"""HRNet arms of the pretext study: the bare main job's generator and its variants.

``emkit run pretext=pix2pix generator=hrnet`` with its defaults (3 × 60 steps of 8 crops
of 128² on the default mix) is the main job; here it runs once per seed on the mix with
data seed 1 (other images than the downstream sets), and HRNet is fine-tuned from it on
every downstream task, next to random init.
"""

from __future__ import annotations

from benchmarks.studies.dwidth_transfer import MIX_SEED1
from benchmarks.studies.pretext_tools.arms import Arm, Section

#: Corpus pretext runs: name -> overrides (one run per seed).
CORPUS: dict[str, list[str]] = {
    "bare-pix2pix": ["pretext=pix2pix", "generator=hrnet", "data=mix", MIX_SEED1],
}


def hrnet_section(speed: dict | None, tasks: tuple[str, ...]) -> Section:
    arms = (Arm("hrnet-random", "HRNet, random init"),
            Arm("hrnet-bare-pix2pix", "HRNet from the bare `emkit run pretext=pix2pix generator=hrnet`", "corpus",
                source="bare-pix2pix", reference="hrnet-random"))
    return Section("hrnet", "HRNet: the bare main job's generator", "hrnet", tasks, arms)
