#!/usr/bin/env bash
# Builds libviditq.so into $1/<os>-<arch>/ with gcc. Kernels are compiled per ISA with target attributes and
# chosen at run time (cpuid), so the library runs on any x86-64; never -march=native.
# Without gcc this prints a warning and succeeds: the pure-Java kernels then serve.
set -euo pipefail
out_root="$1"
src="$(cd "$(dirname "$0")" && pwd)"
os=$(uname -s | tr '[:upper:]' '[:lower:]')
arch=$(uname -m)
case "$arch" in amd64) arch=x86_64 ;; arm64) arch=aarch64 ;; esac
out="$out_root/$os-$arch"
if ! command -v gcc >/dev/null 2>&1; then
  echo "[viditq-native] WARNING: gcc not found; building without native kernels (Java fallbacks will be used)" >&2
  exit 0
fi
shopt -s nullglob
sources=("$src"/*.c)
if [ ${#sources[@]} -eq 0 ]; then
  echo "[viditq-native] no C sources yet" >&2
  exit 0
fi
mkdir -p "$out"
# -ffp-contract=off: every implementation (C per ISA and Java) must evaluate the same float operations in the
# same order, so their outputs are bitwise equal; gcc must not fuse a multiply and an add on its own.
# -fno-math-errno lets the portable quantizer's nearbyintf vectorize.
gcc -O3 -std=c11 -fPIC -shared -fvisibility=hidden -fno-strict-aliasing -ffp-contract=off -fno-math-errno -Wall -Wno-unused-function \
    -o "$out/libviditq.so.tmp" "${sources[@]}" -lm
mv "$out/libviditq.so.tmp" "$out/libviditq.so"
echo "[viditq-native] built $out/libviditq.so"
