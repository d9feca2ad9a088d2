#!/usr/bin/env bash
# Set up voice_interviewer on a fresh Debian/Ubuntu machine, into ./.venv.
#   bash scripts/setup.sh          system packages + the app (with the Piper voice)
#   bash scripts/setup.sh --test   the same plus what the tests need
#                                  (Chromium, PulseAudio, PostgreSQL, a local LLM server, linters)
# Python packages come from the lock files in requirements/ (exact versions and hashes, the ones
# CI tested); `bash scripts/lock.sh` refreshes them. Safe to re-run: with nothing to do it
# finishes in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

started=$SECONDS
step_started=$SECONDS
step() { step_started=$SECONDS; echo "setup: $*"; }
done_step() { echo "setup:   done in $((SECONDS - step_started)) s"; }

apt_packages=(espeak-ng libespeak-ng1 libportaudio2 python3-venv)
[ $want_test = 1 ] && apt_packages+=(chromium pulseaudio pulseaudio-utils libasound2-plugins
                                     build-essential cmake postgresql)
lock=requirements/app.lock
extras="piper"
[ $want_test = 1 ] && { lock=requirements/test.lock; extras="piper,test"; }

missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    step "system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    done_step
  else
    echo "Please install these system packages yourself: ${missing[*]}" >&2
  fi
else
  echo "setup: system packages already installed (${#apt_packages[@]})"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  step "virtual environment .venv ($("$PY" --version))"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check "pip==26.3"
  done_step
fi

# The stamp records which lock (and which pyproject) the venv was built from: a re-run with the
# same inputs installs nothing.
stamp=.venv/.voice-interviewer-installed
want_stamp="$lock $(cat "$lock" pyproject.toml | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want_stamp" ]; then
  step "Python packages from $lock ($(grep -c '==' "$lock") pins)"
  # Anything compiled here (llama-cpp-python, for the test LLM server) is built for a portable
  # x86-64 baseline, not tuned to this CPU: a build tuned to one CPU crashes on others. No pip
  # cache either, so a wheel built earlier with other flags is never reused. GGML_NATIVE=OFF is
  # llama.cpp's distribution build (AVX2/FMA/F16C, x86-64-v3); on an older CPU without AVX2 run
  # with CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF".
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" \
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-cache-dir \
      --require-hashes --no-deps -r "$lock"
  done_step
  step "voice_interviewer itself (editable, extras: $extras)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  done_step
  echo "$want_stamp" > "$stamp"
else
  echo "setup: Python packages already match $lock"
fi
echo "voice_interviewer is set up in .venv ($((SECONDS - started)) s)"
