"""Time to accuracy: the recipes of `cnnlib.training.recipes`, trained and scored, over seeds.

    python benchmarks/bench_recipes.py [--seeds 0 1 2] [--runs NAME ...] [--limit N]
                                       [--epochs E] [--tables-only] [--out FILE]

What a reader waits for is the time until the network is as good as the book says. Every
run trains on the book's CIFAR-10 images minus 500 held out for validation, in a process
of its own (children/recipe_child.py), one after another, and is scored on the
validation images after every epoch; the book's 500 test images are scored once at the
end and only reported. The runs:

- book50: the reference network, 50 epochs (chapter 10 before the fast recipe);
- fast: the fast network (patch-whitened first layer, 12 epochs, label smoothing 0.2);
- the ablations, each the fast recipe with one thing changed: random first-layer filters
  instead of whitened ones, label smoothing 0.1 instead of 0.2, 16 and 8 epochs;
- by name only (--runs): fast16 cut to 12 epochs, with a peak learning rate of 0.1, with
  translations of at most 2 pixels, and with both (fast12, the quickest recipe;
  results/recipes-fast12-choices.md), and fast12 in 10 epochs (results/recipes-fast12.md).

The report (results/recipes.md, raw numbers in results/recipes.json): per run, the
validation and test accuracy as mean ± standard deviation over seeds with the seconds of
training; the seconds until the validation accuracy first reaches 70 / 75 / 78 %; and the
machine's load, since the seconds are this machine's. --tables-only rewrites the report
from recipes.json without training.

Smallest run (a smoke test): --runs fast --seeds 0 --epochs 1 --limit 300 --out /tmp/r.md
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

from harness import (
    RESULTS,
    THREADS,
    cell,
    child_result,
    current_load,
    load_line,
    load_text,
    machine_block,
    machine_info,
    progress,
    ratio,
    table,
    write_report,
)

from cnnlib.training.recipes import RECIPES

# fast12's settings besides epochs and learning rate, as recipe_child.py options.
_FAST12 = RECIPES["fast12"].config
FAST12_SETTINGS = ["--crop-padding", str(_FAST12.crop_padding), "--alternating-flip",
                   "--ema", str(_FAST12.ema_decay)]
# name: (what it is, the child's arguments besides the seed)
RUNS: dict[str, tuple[str, list[str]]] = {
    "book50": ("reference network, 50 epochs (the old recipe)", ["book50"]),
    "fast": ("fast network, whitened stem, 12 epochs, smoothing 0.2", ["fast"]),
    "fast, random stem": ("fast, first layer random (He) instead of whitened",
                          ["fast", "--no-whiten"]),
    "fast, smoothing 0.1": ("fast, label smoothing 0.1 instead of 0.2",
                            ["fast", "--label-smoothing", "0.1"]),
    "fast, 16 epochs": ("fast, 16 epochs instead of 12", ["fast", "--epochs", "16"]),
    "fast, 8 epochs": ("fast, 8 epochs instead of 12", ["fast", "--epochs", "8"]),
    "fast16, 12 epochs": ("fast16 in 12 epochs", ["fast16", "--epochs", "12"]),
    "fast16, 12 epochs, lr 0.1": ("and peak learning rate 0.1 instead of 0.05",
                                  ["fast16", "--epochs", "12", "--lr", "0.1"]),
    "fast16, 12 epochs, translations ±2": (
        "and random translations by up to 2 pixels instead of 4",
        ["fast16", "--epochs", "12", "--crop-padding", "2"]),
    "fast12": ("fast16 in 12 epochs, translations ±2, lr 0.1", ["fast12"]),
    "fast12, 10 epochs": ("fast12 in 10 epochs", ["fast12", "--epochs", "10"]),
    # Could the reference network itself get there in a few epochs? (chapter 10)
    "reference, 16 epochs": ("book50 cut to 16 epochs", ["book50", "--epochs", "16"]),
    "reference, 16 epochs, fast12's settings": (
        "book50 in 16 epochs with fast12's settings: lr 0.1, translations ±2, alternating "
        "flips, weight averaging",
        ["book50", "--epochs", "16", "--lr", str(_FAST12.lr), *FAST12_SETTINGS]),
    "reference, 16 epochs, fast12's settings, lr 0.02": (
        "the same with a peak learning rate of 0.02",
        ["book50", "--epochs", "16", "--lr", "0.02", *FAST12_SETTINGS]),
}
# The fast-training tricks (issue 25): one training run scored several ways per epoch
# (children/recipe_child.py --variants), since neither weight averaging nor test-time
# augmentation changes the training: the raw and the averaged weights, each with flip
# averaging and with flip-and-shift views. name: (what, child arguments, {variant: row}).
EMA_DECAY, TEST_SHIFT = "0.99", "2"
TRICKS: dict[str, tuple[str, list[str], dict[str, str]]] = {
    "tricks, random flip": (
        "fast recipe (random flips), scored raw/EMA × flip/flip+shift",
        ["fast", "--ema", EMA_DECAY, "--test-shift", TEST_SHIFT, "--variants"],
        {"raw, flip": "fast (as committed)", "raw, flip+shift": "fast + shift TTA",
         "EMA, flip": "fast + EMA", "EMA, flip+shift": "fast + EMA + shift TTA"}),
    "tricks, alternating flip": (
        "fast recipe with alternating flips, scored raw/EMA × flip/flip+shift",
        ["fast", "--ema", EMA_DECAY, "--test-shift", TEST_SHIFT, "--alternating-flip",
         "--variants"],
        {"raw, flip": "fast + alternating flip",
         "raw, flip+shift": "fast + alternating flip + shift TTA",
         "EMA, flip": "fast + alternating flip + EMA",
         "EMA, flip+shift": "fast + all three"}),
    "tricks, alternating flip, 16 epochs": (
        "fast recipe with alternating flips, 16 epochs, scored raw/EMA × flip/flip+shift",
        ["fast", "--ema", EMA_DECAY, "--test-shift", TEST_SHIFT, "--alternating-flip",
         "--variants", "--epochs", "16", "--only", "raw, flip", "EMA, flip", "EMA, flip+shift"],
        {"raw, flip": "fast, 16 epochs + alternating flip",
         "EMA, flip": "fast, 16 epochs + alternating flip + EMA",
         "EMA, flip+shift": "fast, 16 epochs + all three"}),
    "reference, 16 epochs, tricks": (
        "the reference network (book50's settings) in 16 epochs, alternating flips, "
        "scored raw/EMA × flip/flip+shift",
        ["book50", "--epochs", "16", "--ema", EMA_DECAY, "--test-shift", TEST_SHIFT,
         "--alternating-flip", "--variants"],
        {"raw, flip": "reference, 16 epochs + alternating flip",
         "raw, flip+shift": "reference, 16 epochs + alternating flip + shift TTA",
         "EMA, flip": "reference, 16 epochs + alternating flip + EMA",
         "EMA, flip+shift": "reference, 16 epochs + all three"}),
}
THRESHOLDS = (0.70, 0.75, 0.78)
# --time-to-accuracy: each recipe trained by cnnlib and by its PyTorch twin (the same
# network, weights, images, augmentation, schedule, averaging and test views; only the
# engine differs). row: (child program, its arguments besides the seed).
TIME_TO_ACCURACY: dict[str, tuple[str, list[str]]] = {
    f"{engine}, {name}": (program, [name])
    for name in ("book50", "fast12", "fast16")
    for engine, program in (("cnnlib", "recipe_child.py"),
                            ("PyTorch twin", "recipe_torch_child.py"))}
# What --time-to-accuracy with no names runs: the old recipe and the default, each twice.
TIME_TO_ACCURACY_DEFAULT = [name for name in TIME_TO_ACCURACY if "fast16" not in name]


def seconds_to(run: dict, threshold: float) -> float:
    """Wall seconds of training (scoring included) until val_acc first reaches threshold."""
    elapsed = 0.0
    for acc, seconds in zip(run["val_acc"], run["seconds"], strict=True):
        elapsed += seconds
        if acc >= threshold:
            return elapsed
    return math.nan


def mean_sd(values: list[float], digits: int = 1, scale: float = 100.0) -> str:
    """"73.8 ± 0.4" (sd over seeds; "—" with one value)."""
    values = [v * scale for v in values]
    if len(values) == 1:
        return f"{values[0]:.{digits}f} (one seed)"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def expand(name: str, seed: int, result: dict) -> dict[str, dict]:
    """A --variants child's result as one run per way of scoring it: seconds per epoch are
    the SGD steps' plus that way's own scoring (what a run scored only that way takes)."""
    rows = {}
    for variant, row in TRICKS[name][2].items():
        v = result["variants"][variant]
        rows[row] = {"seed": seed, "val_acc": v["val_acc"], "test_acc": v["test_acc"],
                     "seconds": [a + b for a, b in zip(result["step_seconds"],
                                                       v["score_seconds"], strict=True)],
                     "step_seconds": result["step_seconds"],
                     "score_seconds": v["score_seconds"], "training_run": name,
                     "load_start": result["load_start"], "load_end": result["load_end"]}
    return rows


# What one run's score can tell: every report says it in the same words.
ONE_RUN = ("on 500 validation images one image is 0.2 points, and a 95 % interval for one "
           "score near 75 % is about ±3.8 points")


def machine_text(data: dict) -> str:
    """A report's closing block: the machine the runs ran on, one "- what: value" a line."""
    return machine_block(data["machine"])


def tricks_report(data: dict) -> str:
    """The ablation of the tricks: one seed, validation only, per epoch, under load."""
    order = [row for _, _, rows in TRICKS.values() for row in rows.values()]
    runs = {name: min(data["runs"][name], key=lambda r: r["seed"]) for name in sorted(
        data["runs"], key=lambda n: order.index(n) if n in order else len(order))}
    epochs = max(len(r["val_acc"]) for r in runs.values())
    rows = []
    for name, r in runs.items():
        rows.append([name, r["training_run"], f"{100 * r['val_acc'][-1]:.1f}",
                     f"{100 * max(r['val_acc']):.1f}", cell(sum(r["step_seconds"]), 0),
                     cell(sum(r["score_seconds"]), 0),
                     f"{load_text(r['load_start'])} → {load_text(r['load_end'])}"])
    ablation = table(["scored as", "training run", "final validation %", "best epoch's %",
                      "s of SGD steps", "s of scoring (12 or 16 × 500 images)",
                      "load 1/5/15 min, start → end"], rows)
    rows = [[name] + [f"{100 * a:.1f}" for a in r["val_acc"]]
            + [""] * (epochs - len(r["val_acc"])) for name, r in runs.items()]
    committed = RESULTS / "recipes.json"  # the quiet three-seed table: its seed-0 curves
    if committed.exists():
        quiet = json.loads(committed.read_text())["runs"]
        for name in ("fast", "fast, 16 epochs"):
            r = next((r for r in quiet.get(name, []) if r["seed"] == 0), None)
            if r is not None and len(r["val_acc"]) <= epochs:
                rows.append([f"({name}: recipes.json, seed 0, quiet machine)"]
                            + [f"{100 * a:.1f}" for a in r["val_acc"]]
                            + [""] * (epochs - len(r["val_acc"])))
    per_epoch = table(["validation % after epoch"] + [str(e + 1) for e in range(epochs)], rows)
    rows = []
    for name, r in runs.items():
        rows.append([name, *[reached(r, t) for t in THRESHOLDS]])
    to_accuracy = table(["scored as"] + [f"to {t:.0%} validation" for t in THRESHOLDS], rows)
    rows = [[name, f"{100 * r['test_acc']:.1f}"] for name, r in runs.items()]
    test = table(["scored as", "test % (500 book images; reported, never used to choose)"],
                 rows)
    seeds = sorted({r["seed"] for rows in data["runs"].values() for r in rows})
    over_seeds = ""
    if len(seeds) > 1:
        by_seed, seed_to = seed_tables(data["runs"])
        over_seeds = (
            f"## Over seeds {', '.join(map(str, seeds))}\n\n{by_seed}\n\n"
            "± is the standard deviation over seeds. Seconds to a threshold (median over "
            f"the seeds that reached it):\n\n{seed_to}\n\n## Seed 0, epoch by epoch\n\n")
    return (
        "# The fast recipe's tricks: weight averaging, shift TTA, alternating flip\n\n"
        f"{data['setup']}\n\n{over_seeds}{ablation}\n\n"
        f"One seed: {ONE_RUN}, so the rows above differ by less than the noise of one "
        "run; a default changes only on several seeds.\n\n"
        "Validation accuracy (500 held-out images, one image = 0.2 points) after every "
        "epoch (the committed quiet run of the same recipe and seed below, for comparison: "
        "the training is deterministic up to the order of floating-point sums):\n\n"
        f"{per_epoch}\n\nSeconds (SGD steps plus this way's own scoring, "
        "measured under load, so not comparable with recipes.md) and epochs until the "
        f"validation accuracy first reaches a threshold:\n\n{to_accuracy}\n\n{test}\n\n"
        f"{machine_text(data)}\n")


def reached(run: dict, threshold: float) -> str:
    """"412 s (epoch 12)" or "not reached"."""
    epoch = next((e + 1 for e, a in enumerate(run["val_acc"]) if a >= threshold), None)
    if epoch is None:
        return "not reached"
    return f"{seconds_to(run, threshold):,.0f} s (epoch {epoch})"


def time_to_accuracy_report(data: dict) -> str:
    """Old and new recipe, cnnlib and PyTorch, with the machine's speeds beside them."""
    runs = data["runs"]
    rows = []
    for name, r in runs.items():
        recipe_name = name.split(", ")[-1]
        twin = runs.get(f"PyTorch twin, {recipe_name}")
        steps = sum(r["step_seconds"])
        rows.append([name, len(r["val_acc"]), f"{100 * r['val_acc'][-1]:.1f}",
                     *[reached(r, t) for t in THRESHOLDS], cell(sum(r["seconds"]), 0),
                     cell(steps / len(r["step_seconds"]), 1),
                     ratio(steps, sum(twin["step_seconds"])) if twin and twin is not r else "1",
                     f"{100 * r['test_acc']:.1f}",
                     f"{load_text(r['load_start'])} → {load_text(r['load_end'])}"])
    main = table(["run", "epochs", "final validation %"]
                 + [f"to {t:.0%} validation" for t in THRESHOLDS]
                 + ["s in all", "s of SGD per epoch", "SGD time ÷ PyTorch's",
                    "test % (500; reported only)", "load 1/5/15, start → end"], rows)
    speeds = table(["what", "1 thread", f"{data['threads']} threads"],
                   [[what if "GFLOP" in what else f"{what} (GB/s)",
                     *[cell(v[k], 1) for k in ("1", str(data["threads"]))]]
                    for what, v in data["speeds"].items()])
    return (
        "# Time to accuracy: the old and the new recipe, cnnlib and its PyTorch twin\n\n"
        f"{data['setup']}\n\n{data['load']}\n\n{main}\n\n"
        "Seconds are wall time of training with the validation scoring after every epoch "
        "(what a reader waits for); \"s of SGD per epoch\" leaves the scoring out, and its "
        f"ratio to the PyTorch twin's is the engine's share. One seed each: {ONE_RUN} "
        "(recipes-fast12.md and recipes-fast16.md have three seeds of the fast recipes)."
        "\n\n"
        "The machine's speeds, measured just before (bench_limits.py's measures: an "
        "element-wise pass b = a + 1 read + written, and a large float32 matrix "
        "product), which bound the engine: the convolutions are matrix products, "
        "everything else is passes over memory.\n\n"
        f"{speeds}\n\n{machine_text(data)}\n")


def run_time_to_accuracy(args: argparse.Namespace, raw: Path) -> None:
    """Every TIME_TO_ACCURACY run in its own process, one after another, seed 0."""
    from bench_limits import memory_speeds
    start = current_load()
    data = {"kind": "time-to-accuracy", "machine": machine_info(), "threads": THREADS,
            "speeds": memory_speeds(THREADS), "runs": {}}
    data["setup"] = (
        "Each run trains on the book's 5,170 CIFAR-10 training images minus 500 held out "
        f"for validation (4,670 images), {THREADS} threads, in a process of its own, one "
        "run after another, seed 0; it scores the validation images after every epoch and "
        "the book's 500 test images once at the end. The recipes (cnnlib.training."
        "recipes): " + "; ".join(
            f"{name}, {RECIPES[name].description}" for name in dict.fromkeys(
                key.split(", ")[-1] for key in args.time_to_accuracy)) + ".")
    for name in args.time_to_accuracy:
        program, extra = TIME_TO_ACCURACY[name]
        extra = extra + (["--epochs", str(args.epochs)] if args.epochs else [])
        extra += ["--limit", str(args.limit)] if args.limit else []
        result = child_result(program, [*extra, "--seed", 0], timeout=7200)
        data["runs"][name] = {"seed": 0, **result}
        data["load"] = load_line(start)
        progress(f"{name}: validation {result['val_acc'][-1]:.3f}, "
                 f"{sum(result['seconds']):.0f} s")
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(data, indent=1) + "\n")
        write_report(report(data), args.out)


def what(name: str) -> str:
    """What a run or a way of scoring a --tricks run is, for the reports' "what" column."""
    if name in RUNS:
        return RUNS[name][0]
    for description, _, ways in TRICKS.values():
        for way, row in ways.items():
            if row == name:
                return f"{description.split(', scored')[0]}; scored {way}"
    return ""


def seed_tables(runs: dict[str, list[dict]]) -> tuple[str, str]:
    """Per run, over its seeds: the accuracies as mean ± sd with the seconds of training,
    and the median seconds to each threshold (over the seeds that reached it)."""
    rows = []
    for name, seeds in runs.items():
        total = [sum(r["seconds"]) for r in seeds]
        rows.append([name, what(name), len(seeds),
                     mean_sd([r["val_acc"][-1] for r in seeds]),
                     mean_sd([max(r["val_acc"]) for r in seeds]),
                     mean_sd([r["test_acc"] for r in seeds]),
                     cell(statistics.mean(total), 0)])
    ablation = table(["run", "what", "seeds", "final validation %", "best epoch's validation %",
                      "test % (500, reported only)", "s of training (mean)"], rows)
    rows = []
    for name, seeds in runs.items():
        row = [name]
        for threshold in THRESHOLDS:
            times = [seconds_to(r, threshold) for r in seeds]
            got = [t for t in times if not math.isnan(t)]
            row.append("not reached" if not got else
                       f"{statistics.median(got):,.0f} ({len(got)}/{len(times)} seeds)")
        rows.append(row)
    to_accuracy = table(["run"] + [f"s to {t:.0%} validation" for t in THRESHOLDS], rows)
    return ablation, to_accuracy


def report(data: dict) -> str:
    if data.get("kind") == "tricks":
        return tricks_report(data)
    if data.get("kind") == "time-to-accuracy":
        return time_to_accuracy_report(data)
    ablation, to_accuracy = seed_tables(data["runs"])
    return (
        f"# {data.get('title', 'Time to accuracy: the recipes, over seeds')}\n\n"
        f"{data['setup']}\n\n{data['load']}\n\n{ablation}\n\n"
        "Seconds are wall time of training (validation scoring after every epoch included); "
        f"± is the standard deviation over seeds; {ONE_RUN}.\n\n"
        "Seconds until the validation accuracy first reaches a threshold (median over the "
        "seeds that reached it):\n\n"
        f"{to_accuracy}\n\n{machine_text(data)}\n")


def run_tricks(args: argparse.Namespace, raw: Path) -> None:
    """Each training run of --tricks in its own process; the JSON and the report are
    rewritten after every run (earlier runs in the file are kept), so a long ablation
    can be done a run at a time."""
    setup = ("Each training run uses the book's 5,170 CIFAR-10 training images minus 500 held "
             "out for validation (4,670 images), 2 threads, in a process of its own (runs of "
             "separate invocations may overlap), nice 10; the load average at the start and "
             "end of each run is in the table. EMA decay "
             f"{EMA_DECAY} per step; shift TTA averages the logits of 6 views (the image and "
             f"its copies translated by ±{TEST_SHIFT} pixels diagonally with reflected "
             "borders, each with its mirror image); without it, 2 views (image and mirror). "
             "Weight averaging and test-time augmentation do not change the training, so "
             "one training run is scored up to four ways after every epoch, each way timed "
             "on its own.")
    data = (json.loads(raw.read_text()) if raw.exists() else
            {"kind": "tricks", "setup": setup, "machine": machine_info(), "runs": {}})
    start = current_load()
    for name in args.tricks:
        extra = TRICKS[name][1] + (["--limit", str(args.limit)] if args.limit else [])
        extra += ["--epochs", str(args.epochs)] if args.epochs else []
        for seed in args.seeds if args.seeds is not None else [0]:
            log = raw.with_name(f"{raw.stem}.{name.replace(', ', '-').replace(' ', '-')}"
                                f".seed{seed}.log")
            log.unlink(missing_ok=True)
            result = child_result("recipe_child.py", [*extra, "--seed", seed, "--log", log],
                                  timeout=14400)
            log.unlink()
            # Another invocation may have added its runs meanwhile (runs can go side by side):
            # start from the file as it is now, and replace only this seed's runs of these rows.
            if raw.exists():
                data["runs"] = json.loads(raw.read_text())["runs"]
            for row, run in expand(name, seed, result).items():
                kept = [r for r in data["runs"].get(row, []) if r.get("seed") != seed]
                data["runs"][row] = [*kept, run]
                progress(f"{row}, seed {seed}: validation {run['val_acc'][-1]:.3f}, "
                         f"{sum(run['seconds']):.0f} s")
            data["load"] = load_line(start)
            raw.parent.mkdir(parents=True, exist_ok=True)
            raw.write_text(json.dumps(data, indent=1) + "\n")
            write_report(report(data), args.out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=list(RUNS)[:6],
                   help="the runs (default: book50, fast and its four ablations)")
    p.add_argument("--tricks", nargs="+", choices=sorted(TRICKS), default=None,
                   help="instead of --runs: the tricks' ablation (seed 0 unless --seeds), "
                        "added to --out's JSON run by run (default out: recipes-tricks.md)")
    p.add_argument("--time-to-accuracy", nargs="*", choices=list(TIME_TO_ACCURACY),
                   default=None, help="instead of --runs: the old and the new recipe, cnnlib "
                   "and its PyTorch twin, seed 0 (no names: book50 and fast12, four runs; "
                   "default out: time-to-accuracy.md)")
    p.add_argument("--seeds", nargs="+", type=int, default=None,
                   help="seeds of each run (default: 0 1 2 for --runs, 0 for --tricks)")
    p.add_argument("--book50-seeds", nargs="+", type=int, default=[0],
                   help="seeds of the 50-epoch recipe (16 minutes each; default: 0)")
    p.add_argument("--epochs", type=int, default=None, help="override every run's epochs")
    p.add_argument("--limit", type=int, default=None, help="first N training images (smoke)")
    p.add_argument("--tables-only", action="store_true",
                   help="rewrite the report from recipes.json without training")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    if args.time_to_accuracy == []:
        args.time_to_accuracy = TIME_TO_ACCURACY_DEFAULT
    if args.out is None:
        args.out = RESULTS / ("recipes-tricks.md" if args.tricks else
                              "time-to-accuracy.md" if args.time_to_accuracy else "recipes.md")
    raw = args.out.with_suffix(".json")
    if args.tables_only:
        write_report(report(json.loads(raw.read_text())), args.out)
        return
    if args.tricks:
        run_tricks(args, raw)
        return
    if args.time_to_accuracy:
        run_time_to_accuracy(args, raw)
        return

    start = current_load()
    machine = machine_info()
    runs: dict[str, list[dict]] = {}
    for name in args.runs:
        extra = RUNS[name][1] + (["--epochs", str(args.epochs)] if args.epochs else [])
        extra += ["--limit", str(args.limit)] if args.limit else []
        seeds = args.book50_seeds if name == "book50" else (args.seeds or [0, 1, 2])
        for seed in seeds:
            result = child_result("recipe_child.py", [*extra, "--seed", seed], timeout=7200)
            runs.setdefault(name, []).append({"seed": seed, **result})
            progress(f"{name}, seed {seed}: validation {result['val_acc'][-1]:.3f}, "
                     f"test {result['test_acc']:.3f}, {sum(result['seconds']):.0f} s")
    setup = ("Each run trains on the book's 5,170 CIFAR-10 training images minus 500 held out "
             "for validation (4,670 images), 2 threads, in a process of its own, one run after "
             "another; the 500 test images are scored once at the end with flip averaging.")
    data = {"setup": setup, "load": load_line(start), "machine": machine, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(data, indent=1) + "\n")
    write_report(report(data), args.out)


if __name__ == "__main__":
    main()
