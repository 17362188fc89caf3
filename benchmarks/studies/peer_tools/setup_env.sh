#!/usr/bin/env bash
# Build the peer-tool virtual environment (CAREamics + AtomAI) OUTSIDE the repo tree.
# Why separate: the peers pin other torch/torchvision versions than emkit uses, and their
# own code must run unmodified. requirements.txt beside this file explains every pin.
# Usage: benchmarks/studies/peer_tools/setup_env.sh [VENV_DIR]   (default: $EMKIT_PEERS_VENV or
#        ~/.cache/emkit-peers/venv). Idempotent: a completed venv is kept.
# Cost: ~2.5 GB of downloads (PyPI's torch 2.11.0 is a CUDA build), ~6 GB on disk.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-${EMKIT_PEERS_VENV:-$HOME/.cache/emkit-peers/venv}}"
python="${PYTHON:-python3}"
stamp="$venv/.emkit-peers-ok"
if [[ -f "$stamp" ]]; then echo "peer venv ready: $venv"; exit 0; fi
repo="$(cd "$here/../.." && pwd)"
mkdir -p "$venv"
case "$(cd "$venv" && pwd)/" in "$repo/"*)
  echo "error: the peer venv must live outside the repository ($venv is inside $repo)" >&2; exit 2;; esac
start=$(date +%s)
"$python" -m venv "$venv"
"$venv/bin/pip" install -q -r "$here/requirements.txt"
"$venv/bin/pip" check
"$venv/bin/python" -c "import careamics, atomai, torch, torchvision; from careamics import CAREamist; from atomai.models import Segmentor; print('careamics', careamics.__version__, '| atomai', atomai.__version__, '| torch', torch.__version__, '| torchvision', torchvision.__version__)"
end=$(date +%s)
"$venv/bin/pip" freeze > "$venv/.emkit-peers-freeze.txt"
echo "install_seconds=$((end - start))" | tee "$stamp"
