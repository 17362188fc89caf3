#!/usr/bin/env bash
# Build the peer-tool virtual environment (CAREamics + AtomAI) OUTSIDE the repo tree.
# Why separate: the peers pin other torch/torchvision/numpy ranges than emkit, and their own
# code must run unmodified. See requirements.txt beside this file for every pin/workaround.
# Usage: benchmarks/peers/setup_env.sh [VENV_DIR]   (default: $EMKIT_PEERS_VENV or
#        ~/.cache/emkit-peers/venv). Idempotent: an existing complete venv is kept.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-${EMKIT_PEERS_VENV:-$HOME/.cache/emkit-peers/venv}}"
python="${PYTHON:-python3}"
stamp="$venv/.emkit-peers-ok"
if [[ -f "$stamp" ]]; then echo "peer venv ready: $venv"; exit 0; fi
start=$(date +%s)
"$python" -m venv "$venv"
pip=("$venv/bin/pip" install -q)
# 1. CPU torch first: with torch already present nothing can pull a CUDA build later.
"${pip[@]}" torch==2.13.0
"${pip[@]}" torchvision==0.28.0
if "$venv/bin/pip" list 2>/dev/null | grep -qi '^nvidia-'; then
  echo "error: a CUDA torch build got installed into $venv" >&2; exit 1
fi
# 2. The peers, unmodified, without their torchvision<=0.26 pin (see requirements.txt).
"${pip[@]}" --no-deps careamics==0.3.5 atomai==0.8.1
# 3. Everything else they declare, with their own bounds.
"${pip[@]}" -r "$here/requirements.txt"
"$venv/bin/python" -c "import careamics, atomai, torch; print('careamics', careamics.__version__, 'atomai', atomai.__version__, 'torch', torch.__version__)"
end=$(date +%s)
echo "install_seconds=$((end - start))" | tee "$stamp"
"$venv/bin/pip" freeze > "$venv/.emkit-peers-freeze.txt"
