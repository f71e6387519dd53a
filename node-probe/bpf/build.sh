#!/usr/bin/env bash
# Compiles the probe's eBPF programs into the objects committed beside them. Run after
# changing a .bpf.c or .h file here (needs clang; `scripts/install-bpf-toolchain` installs
# Debian's). The objects are reproducible: same clang, same bytes (`--check` verifies it).
#   node-probe/bpf/build.sh [--check] [OUT_DIR]
# vmlinux.h is the running kernel's BTF as C; regenerate it with
#   bpftool btf dump file /sys/kernel/btf/vmlinux format c > node-probe/bpf/vmlinux.h
set -euo pipefail
cd "$(dirname "$0")"
check=false
if [ "${1:-}" = --check ]; then check=true; shift; fi
out="${1:-.}"
clang="${CLANG:-clang}"
strip="${LLVM_STRIP:-llvm-strip}"
command -v "$strip" >/dev/null || strip="$(ls /usr/bin/llvm-strip* 2>/dev/null | head -1)"
status=0
for src in probe.bpf.c egress.bpf.c; do
  obj="$out/${src%.c}.o"
  # Relative source paths and no DWARF (the .BTF sections CO-RE needs stay): no trace of
  # the directory it was built in.
  "$clang" -O2 -g -fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=. -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -c "$src" -o "$obj.tmp"
  "$strip" -g "$obj.tmp"
  if $check && ! cmp -s "$obj.tmp" "${src%.c}.o"; then
    echo "node-probe/bpf/${src%.c}.o differs from what $src compiles to; run node-probe/bpf/build.sh" >&2
    status=1
  fi
  if $check; then rm -f "$obj.tmp"; else mv "$obj.tmp" "$obj"; fi
done
$check || "$clang" --version | head -1 > "$out/CLANG_VERSION"
exit $status
