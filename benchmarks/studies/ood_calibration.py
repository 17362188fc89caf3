"""Calibrate ``emkit predict``'s out-of-distribution warning on emkit's synthetic families.

Question: with the statistics a run stores (``emkit.data.input_stats``), does the check
warn on an image of another kind, and stay silent on a held-out image of the kind the
model was trained on?

For every seed and every training family F (``synthetic-cem``, ``synthetic-stem``,
``synthetic-hrtem`` at their default sizes): the statistics of F's train split exactly as
a run collects them (``collect_stats``: 96 images spread over the split), then the check
``emkit predict`` runs (``compare``) on ``--held-out`` images of F's test split -- a
warning there is a false alarm -- and of the other families' test splits -- no warning
there is a miss. The rates are reported at the calibrated limit (``compare.LIMIT``) and
at neighbouring limits, as mean ± std over seeds (n = images per seed).

    python -m benchmarks.studies.ood_calibration --results
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.common import add_dry_run_flag, add_results_flag, report

FAMILIES = ("synthetic-cem", "synthetic-stem", "synthetic-hrtem")


def dataset(name: str, split: str, seed: int, length: int, size: int | None):
    from emkit.data.build import build_dataset

    config = {"seed": seed, "length": length, "val_length": 0, "test_length": length}
    if size is not None:
        config["size"] = size
    return build_dataset(name, config, split)


def held_out_ratios(stats, features) -> list[float]:
    from emkit.data.input_stats import compare

    return [compare(stats, f).ratio for f in features]


def family_features(name: str, seed: int, count: int, size: int | None) -> list:
    from emkit.data.input_stats.features import array_features
    from emkit.data.input_stats.record import _unit_image

    ds = dataset(name, "test", seed, count, size)
    return [array_features(_unit_image(ds[i]["image"])) for i in range(count)]


def measure(args) -> dict[tuple[str, str], list[list[float]]]:
    """(training family, test family) → per seed, the ratio of every held-out image."""
    from emkit.data.input_stats import collect_stats

    ratios: dict[tuple[str, str], list[list[float]]] = {}
    for seed in args.seeds:
        tests = {name: family_features(name, seed, args.held_out, args.size) for name in args.families}
        for train in args.families:
            t0 = time.perf_counter()
            stats = collect_stats(dataset(train, "train", seed, args.train_length, args.size), samples=args.samples)
            for test in args.families:
                ratios.setdefault((train, test), []).append(held_out_ratios(stats, tests[test]))
            print(f"seed {seed}: {train} ({len(stats.features)} training images) "
                  f"checked in {time.perf_counter() - t0:.0f} s", flush=True)
    return ratios


def rate(per_seed: list[list[float]], limit: float, warn: bool) -> list[float]:
    """Per seed: the fraction of images that warn (``warn``) or stay silent (not ``warn``)."""
    return [sum((r > limit) == warn for r in seed) / len(seed) for seed in per_seed]


def fmt(values: list[float]) -> str:
    if len(values) == 1:
        return f"{100 * values[0]:.1f} %"
    return f"{100 * statistics.fmean(values):.1f} ± {100 * statistics.stdev(values):.1f} %"


def table(args, ratios) -> str:
    from emkit.data.input_stats.compare import LIMIT, QUANTILE

    limits = sorted({LIMIT, *args.limits})
    head = ["training family", "held-out family", "images/seed", "median distance",
            *[f"limit {lim:g}x" for lim in limits]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (train, test), per_seed in ratios.items():
        same = train == test
        cells = [train, test + (" (same)" if same else ""), str(args.held_out),
                 f"{statistics.median(r for seed in per_seed for r in seed):.2f}x"]
        cells += [("false alarms " if same else "misses ") + fmt(rate(per_seed, lim, warn=same)) for lim in limits]
        lines.append("| " + " | ".join(cells) + " |")
    fa = [v for (tr, te), s in ratios.items() if tr == te for v in rate(s, LIMIT, True)]
    miss = [v for (tr, te), s in ratios.items() if tr != te for v in rate(s, LIMIT, False)]
    n_same = args.held_out * len(args.seeds) * len(args.families)
    summary = [
        "",
        f"At the limit emkit uses ({LIMIT:g}x the usual distance, usual = the {QUANTILE:g} quantile of the "
        f"training inputs' leave-one-out nearest-neighbour distances): false-alarm rate {fmt(fa)} "
        f"(held-out same-family images, {n_same} in all), miss rate {fmt(miss)} "
        f"(other-family images, {2 * n_same} in all); mean ± std over the per-seed, per-family rates.",
        f"Seeds {', '.join(map(str, args.seeds))}; statistics of {args.samples} training images per family "
        f"(train split of {args.train_length}); held-out images from each family's test split; "
        f"image size {'family default (cem/stem 256, hrtem 512)' if args.size is None else args.size}.",
        "Distance = nearest-neighbour distance in emkit.data.input_stats.compare's scaled feature space over the "
        "usual distance; an image warns above the limit.",
    ]
    return "\n".join(lines + summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--held-out", type=int, default=50, help="test images per family and seed")
    parser.add_argument("--samples", type=int, default=96, help="training images described (as a run does)")
    parser.add_argument("--train-length", type=int, default=2000, help="length of the train split sampled")
    parser.add_argument("--limits", nargs="+", type=float, default=[1.25, 2.0, 3.0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES))
    parser.add_argument("--size", type=int, default=None, help="image side (default: each family's default)")
    add_results_flag(parser, "ood_calibration_cpu.md")
    add_dry_run_flag(parser)
    args = parser.parse_args()
    if args.dry_run:
        args.seeds, args.held_out, args.samples, args.train_length, args.size = [0], 2, 4, 8, 64
    report(table(args, measure(args)), args.results)


if __name__ == "__main__":
    main()
