#!/usr/bin/env bash
# One-time (idempotent) set-up of everything statemix needs on a fresh Debian 12 machine:
# Debian packages, then a project-local virtual environment (.venv) holding the pinned Halide
# release and a CMake new enough for Halide's CMake package (>= 3.28). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

HALIDE_VERSION=21.0.0
CMAKE_VERSION=3.31.6
NINJA_VERSION=1.11.1.4
APT_PACKAGES=(build-essential python3-venv libfmt-dev libgtest-dev googletest libbenchmark-dev
              nlohmann-json3-dev libcli11-dev dataset-fashion-mnist libdnnl-dev fortunes-min zlib1g-dev)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import halide" 2>/dev/null \
   || [ "$(.venv/bin/pip show halide 2>/dev/null | awk '/^Version/{print $2}')" != "$HALIDE_VERSION" ] \
   || [ ! -x .venv/bin/ninja ]; then
  echo "setup: creating .venv with halide==$HALIDE_VERSION cmake==$CMAKE_VERSION ninja==$NINJA_VERSION"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "halide==$HALIDE_VERSION" "cmake==$CMAKE_VERSION" "ninja==$NINJA_VERSION"
fi
