#!/usr/bin/env bash
# Builds libviditq.so into $1/<os>-<arch>/ with gcc. Kernels are compiled per ISA with target attributes and
# chosen at run time (cpuid), so the library runs on any x86-64; never -march=native.
# Without gcc this prints a warning and succeeds: the pure-Java kernels then serve.
#
#   build.sh OUT                  the library that ships
#   build.sh --amx-emulated OUT   a test library whose AMX kernels run on the software tile model of
#                                 src/test/c/amx_emulation.h, for testing them on CPUs without AMX
set -euo pipefail
emulated=0
if [ "${1:-}" = "--amx-emulated" ]; then emulated=1; shift; fi
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
flags=(-O3 -std=c11 -fPIC -fvisibility=hidden -fno-strict-aliasing -ffp-contract=off -fno-math-errno -pthread
       -Wall -Wno-unused-function)
if [ "$emulated" = 1 ]; then flags+=(-DVQ_AMX_EMULATE -I"$src/../../test/c"); fi
# The AMX kernels are the one file compiled with the AMX (and AVX-512) flags instead of a target pragma: gcc 12
# accepts the tile intrinsics only with -mamx-*. Nothing in it runs before dispatch.c has checked the CPU.
amx_flags=(-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mfma -mbmi2
           -mamx-tile -mamx-int8 -mamx-bf16)
objects=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "$arch" != x86_64 ]; then
  # the other ISA files compile to nothing off x86-64 (#if defined(__x86_64__)); this one needs x86 flags
  mapfile -t sources < <(printf '%s\n' "${sources[@]}" | grep -v kernels_amx.c)
fi
for s in "${sources[@]}"; do
  o="$tmp/$(basename "$s" .c).o"
  if [ "$(basename "$s")" = kernels_amx.c ]; then gcc "${flags[@]}" "${amx_flags[@]}" -c "$s" -o "$o"
  else gcc "${flags[@]}" -c "$s" -o "$o"; fi
  objects+=("$o")
done
gcc -shared -pthread -o "$out/libviditq.so.tmp" "${objects[@]}" -lm
mv "$out/libviditq.so.tmp" "$out/libviditq.so"
echo "[viditq-native] built $out/libviditq.so$([ "$emulated" = 1 ] && echo ' (AMX emulated: tests only)')"
