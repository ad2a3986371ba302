#!/bin/sh
# Installs everything libgalann's build, tests and CI need on Debian 12
# (and derivatives), as root or as a user with sudo. README's command 1 and
# .ci/run both call this one script, so the two lists can never drift.
# Not for other distributions: there, install the equivalents by hand
# (docs/architecture.md lists what each part needs).
set -eu

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps.sh: no apt-get here; install the packages listed in $0 by hand" >&2
  exit 1
fi

# Root (the usual container) has no sudo; an ordinary user needs it.
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "install-deps.sh: run as root, or install sudo" >&2
  exit 1
fi

packages="
  build-essential meson ninja-build pkg-config
  libopenblas-dev libcmocka-dev zlib1g-dev
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
  libopenmpi-dev openmpi-bin
  python3 python3-numpy python3-scipy python3-sklearn python3-pandas
  librsvg2-bin cmake abigail-tools
"

export DEBIAN_FRONTEND=noninteractive
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086  # the list is split on purpose
$as_root env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends $packages
