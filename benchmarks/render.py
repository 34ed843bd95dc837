"""gradviz against the tutorial way (FuncAnimation + PillowWriter), side by side, on the same scene.

Scene: Rosenbrock, sgd, momentum, nesterov, rmsprop, adam, adagrad, 200 steps, 960x540, 20 fps, no loss
panel (the baseline has none). Prints medians over --repeat runs and the ratios:

1. render + encode only, in this process, from the same traced paths;
2. the whole command in a fresh process, imports and start-up included;
3. GIF size;
4. gradviz's peak memory (max RSS of a fresh process) for 400 frames against 100 frames.

    python benchmarks/render.py [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("MPLBACKEND", "Agg")

import baseline_funcanimation as baseline  # noqa: E402
from scratch import add_keep_option, scratch_folder  # noqa: E402

GRADVIZ_ARGS = ["trajectories", "-f", "rosenbrock", *sum((["-O", n] for n, _, _ in baseline.OPTIMIZERS), []),
                "--size", "960x540", "--fps", "20", "--no-loss-panel", "--quiet"]


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_measured(command):
    """Run a command in a fresh process; -> (seconds, peak RSS in MB of that process)."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "subprocess.run(sys.argv[1:], check=True); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True)
    seconds, kilobytes = out.stdout.split()
    return float(seconds), int(kilobytes) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    add_keep_option(parser)
    args = parser.parse_args()
    import gradviz

    with scratch_folder(args.keep, "gradviz-bench-") as tmp:
        paths = baseline.trace_all(200)
        records = [gradviz.trace("rosenbrock", name, steps=200) for name, _, _ in baseline.OPTIMIZERS]
        for record, (name, points) in zip(records, paths.items()):
            assert (record.points == points).all(), f"{name}: gradviz and the baseline traced different paths"

        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(timed(lambda: gradviz.animate(records, tmp / "gradviz.gif", loss_panel=False)))
            theirs.append(timed(lambda: baseline.render(paths, str(tmp / "baseline.gif"))))
        frames = 201
        ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
        print(f"render+encode, 201 frames (median of {args.repeat}):")
        print(f"  gradviz   {ours_s:7.2f} s  {frames / ours_s:6.1f} frames/s")
        print(f"  baseline  {theirs_s:7.2f} s  {frames / theirs_s:6.1f} frames/s   (FuncAnimation + PillowWriter)")
        print(f"  ratio     {theirs_s / ours_s:7.1f}x faster")

        gradviz_cmd = [sys.executable, "-m", "gradviz", *GRADVIZ_ARGS, "--steps", "200", "-o", str(tmp / "cmd.gif")]
        baseline_cmd = [sys.executable, str(HERE / "baseline_funcanimation.py"), str(tmp / "cmd-baseline.gif"), "200"]
        whole_ours = [run_measured(gradviz_cmd)[0] for _ in range(args.repeat)]
        whole_theirs = [run_measured(baseline_cmd)[0] for _ in range(args.repeat)]
        ours_w, theirs_w = statistics.median(whole_ours), statistics.median(whole_theirs)
        print(f"whole command in a fresh process, imports included (median of {args.repeat}):")
        print(f"  gradviz   {ours_w:7.2f} s   baseline {theirs_w:7.2f} s   ratio {theirs_w / ours_w:5.1f}x faster")

        size_ours = (tmp / "gradviz.gif").stat().st_size / 1e6
        size_theirs = (tmp / "baseline.gif").stat().st_size / 1e6
        print(f"GIF size: gradviz {size_ours:.2f} MB, baseline {size_theirs:.2f} MB "
              f"(ratio {size_ours / size_theirs:.2f})")

        peaks = {}
        for steps in (100, 400):
            command = [sys.executable, "-m", "gradviz", *GRADVIZ_ARGS, "--steps", str(steps), "--frames",
                       str(steps), "-o", str(tmp / f"mem{steps}.gif")]
            peaks[steps] = statistics.median(run_measured(command)[1] for _ in range(args.repeat))
        print(f"gradviz peak memory: {peaks[100]:.0f} MB for 100 frames, {peaks[400]:.0f} MB for 400 frames "
              f"(ratio {peaks[400] / peaks[100]:.2f})")


if __name__ == "__main__":
    main()
