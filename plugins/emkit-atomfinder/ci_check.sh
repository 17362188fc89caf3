#!/usr/bin/env bash
# CI check of the example plugin, run against an environment that already has emkit:
#
#   plugins/emkit-atomfinder/ci_check.sh /path/to/venv/bin
#
# 1. pip-installs the plugin (non-editable, as a user would) and runs its tests;
# 2. `emkit plugins list` must show atom-localization from distribution
#    emkit-atomfinder 0.1.0, and `emkit plugins validate` must pass it;
# 3. a short CPU training run through the CLI must write detection metrics;
# 4. uninstalling the plugin must leave emkit working (list still runs, the task is
#    gone with a clear error), then the plugin is reinstalled.
# Takes well under 2 minutes on 2 CPU cores.
set -euo pipefail

source "$(dirname "$0")/../../.ci/plugin_check_env.sh" atomfinder-ci "$@"

step "installing $HERE"
"$BIN/pip" install --quiet "$HERE"

step "plugin tests"
"$BIN/python" -m pytest -q -p no:cacheprovider "$HERE/tests"

step "emkit plugins list"
"$BIN/emkit" plugins list | tee "$WORK/list.txt"
grep -E "atom-localization[ │|]+emkit-atomfinder[ │|]+0\.1\.0" "$WORK/list.txt" >/dev/null \
  || { echo "atomfinder-ci: atom-localization (emkit-atomfinder 0.1.0) missing from 'emkit plugins list'"; exit 1; }

step "emkit plugins validate task=atom-localization"
"$BIN/emkit" plugins validate task=atom-localization

step "short training run"
(cd "$WORK" && "$BIN/emkit" run task=atom-localization data=synthetic-stem \
  data.size=64 data.length=32 data.val_length=4 generator=unet generator.blocks=2 generator.width=4 \
  task.crop=32 train.epochs=2 train.batch_size=8 train.device=cpu name=ci)
"$BIN/python" - "$WORK/runs/ci/metrics.csv" <<'EOF'
import csv, math, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["kind"] == "epoch"]
assert len(rows) == 2, f"expected 2 epoch rows, got {len(rows)}"
for key in ("val_precision", "val_recall", "val_f1", "val_loc_error"):
    value = float(rows[-1][key])
    assert math.isfinite(value), (key, value)
print("atomfinder-ci: last epoch", {k: rows[-1][k] for k in rows[-1] if k.startswith("val_")})
EOF

step "uninstall: emkit keeps working without the plugin"
"$BIN/pip" uninstall --quiet -y emkit-atomfinder
"$BIN/emkit" plugins list > "$WORK/list-without.txt"
if grep -q "atom-localization" "$WORK/list-without.txt"; then
  echo "atomfinder-ci: atom-localization still listed after uninstall"; exit 1
fi
set +e
(cd "$WORK" && "$BIN/emkit" run task=atom-localization train.device=cpu) > "$WORK/run-without.txt" 2>&1
rc=$?
set -e
if [ "$rc" -ne 2 ] || ! grep -q "Unknown task 'atom-localization'" "$WORK/run-without.txt"; then
  echo "atomfinder-ci: expected a one-line unknown-task error (exit 2), got exit $rc:"; cat "$WORK/run-without.txt"; exit 1
fi

step "reinstalling"
"$BIN/pip" install --quiet "$HERE"
"$BIN/emkit" plugins list | grep -q "emkit-atomfinder"
step "ok"
