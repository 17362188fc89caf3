#!/usr/bin/env bash
# CI check of the napari plugin, run against an environment that already has emkit:
#
#   plugins/emkit-napari/ci_check.sh /path/to/venv/bin
#
# 1. installs what a headless machine lacks for Qt + OpenGL (Xvfb, Mesa, xcb libraries;
#    Debian packages, only those missing, needs root when any is);
# 2. pip-installs the plugin (non-editable, as a user would) with pinned napari, Qt
#    binding and test tools;
# 3. `npe2 validate emkit-napari --imports` (the manifest and every contribution import);
# 4. the widget tests under Xvfb: real napari viewers (make_napari_viewer), each widget
#    driven, real tiny emkit trainings, assertions on the layers and run folders produced.
# Install steps should be run only after emkit's own tests: napari brings a pytest plugin.
set -euo pipefail

source "$(dirname "$0")/../../.ci/plugin_check_env.sh" napari-ci "$@"
export XDG_RUNTIME_DIR="$WORK/xdg" && mkdir -m 700 -p "$XDG_RUNTIME_DIR"

# Versions that install from PyPI here and pass these tests together.
PINS=(napari==0.9.2 PyQt6==6.11.0 PyQt6-Qt6==6.11.2 pytest-qt==4.5.0 npe2==0.10.0)
DEBS=(xvfb xauth libgl1 libegl1 libgl1-mesa-dri libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0
      libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
      libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1)

missing=()
for deb in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing+=("$deb")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "napari-ci: missing Debian packages (${missing[*]}); install them as root"; exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > "$WORK/apt.log" \
    || { cat "$WORK/apt.log"; exit 1; }
fi

step "installing $HERE with ${PINS[*]}"
"$BIN/pip" install --quiet "$HERE[test]" "${PINS[@]}"

step "npe2 validate emkit-napari --imports"
"$BIN/npe2" validate emkit-napari --imports

step "widget tests (headless, Xvfb)"
cd "$WORK"
xvfb-run -a -s "-screen 0 1280x1024x24" "$BIN/python" -m pytest -q -p no:cacheprovider "$HERE/tests"
step "ok"
