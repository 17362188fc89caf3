"""benchmarks.throughput.gpu_check --dry-run: every step's script and flags run on the CPU at tiny sizes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_check_dry_run(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmarks.throughput.gpu_check", "--dry-run", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    summary = (tmp_path / "summary.txt").read_text() if (tmp_path / "summary.txt").exists() else proc.stdout
    assert proc.returncode == 0, summary + proc.stderr[-2000:]
    steps = ["build", "ptxas", "backend_info", "cuda_tests", "bench_degrade", "bench_train", "bench_train_compile",
             "bench_predict"]
    for step in steps:
        log = (tmp_path / f"{step}.txt").read_text()
        assert "# exit 0" in log, log[-2000:]
    assert "EMKIT_CUDA_ARCHITECTURES" in (tmp_path / "build.txt").read_text()
    assert "--no-build-isolation" in (tmp_path / "build.txt").read_text()
    assert "compile on" in (tmp_path / "bench_train_compile.txt").read_text()
    assert "emkit fused" in (tmp_path / "bench_degrade.txt").read_text()
    assert '"ops_mode"' in (tmp_path / "backend_info.txt").read_text()
