#!/usr/bin/env bash
# Set up voice_interviewer on a fresh Debian/Ubuntu machine, into ./.venv.
#   bash scripts/setup.sh          system packages + the app (with the Piper voice)
#   bash scripts/setup.sh --test   the same plus what the test suite needs
#                                  (Chromium, PulseAudio, a local LLM server, PostgreSQL)
# Safe to re-run: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

apt_packages=(espeak-ng libespeak-ng1 libportaudio2 python3-venv)
[ $want_test = 1 ] && apt_packages+=(chromium pulseaudio pulseaudio-utils libasound2-plugins build-essential cmake
                                     postgresql)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "Installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "Please install these system packages yourself: ${missing[*]}" >&2
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
extras="piper"
[ $want_test = 1 ] && extras="piper,test"
.venv/bin/python -m pip install -q -e ".[${extras}]"
echo "voice_interviewer is set up in .venv"
