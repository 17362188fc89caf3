# Sourced by the plugins' ci_check.sh scripts (plugins/*/ci_check.sh): the shared set-up.
#
#   source "$(dirname "$0")/../../.ci/plugin_check_env.sh" <log prefix> "$@"
#
# Sets BIN (the venv's bin dir given as the script's first argument, absolute), HERE (the
# plugin's folder), WORK (a temporary folder removed on exit), OMP_NUM_THREADS (1 unless
# set) and step(), which prints "<prefix>: <message> (<seconds since start> s)".
PREFIX="$1"
shift
BIN="${1:?usage: $0 <venv bin dir>}"
BIN="$(cd "$BIN" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
start=$(date +%s)
step() { echo "$PREFIX: $* ($(( $(date +%s) - start )) s)"; }
