#!/usr/bin/env bash
# Installs Mesa's lavapipe, a Vulkan driver that runs on the CPU, so onnxruntime's WebGPU provider
# has an adapter on machines without a GPU (CI, this project's test machines). Run as root on
# Debian; `.ci/run` and the WebGPU tests' setup (test/harness/setup-webgpu.ts) call it.
#
# On bookworm, lavapipe comes from Mesa 25 in the bookworm-backports suite: that is the version the
# WebGPU tests were written against. The suite is added the way Debian documents it, a deb822
# entry on the same mirror as the machine's existing bookworm entry, and only Mesa's packages are
# taken from it (`-t bookworm-backports` for this one install; backports are never preferred by
# default). Other releases install mesa-vulkan-drivers from their own suites.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-lavapipe: run as root (sudo $0)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
. /etc/os-release
codename="${VERSION_CODENAME:-}"
target=()

if [ "$codename" = bookworm ]; then
  backports="${codename}-backports"
  if ! grep -qs "$backports" /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
    # The mirror of the machine's own bookworm entry: deb822 (URIs:) or one-line (deb URI suite …).
    mirror="$(awk -v RS= -v cn="$codename" '
      $0 ~ ("(^|\n)Suites:[^\n]*[ \t]" cn "([ \t\n]|$)") {
        n = split($0, lines, "\n")
        for (i = 1; i <= n; i++) if (lines[i] ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", lines[i]); split(lines[i], u, /[ \t]+/); print u[1]; exit }
      }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
    if [ -z "$mirror" ]; then
      mirror="$(grep -hs -m1 -oP "^deb\s+(\[[^]]*\]\s+)?\K\S+(?=\s+${codename}\s)" /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true)"
    fi
    mirror="${mirror:-http://deb.debian.org/debian}"
    cat > /etc/apt/sources.list.d/debian-backports.sources <<EOF
Types: deb
URIs: ${mirror}
Suites: ${backports}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  target=(-t "$backports")
fi

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${target[@]}" mesa-vulkan-drivers libvulkan1 >/dev/null
