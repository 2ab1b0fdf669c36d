#!/usr/bin/env bash
# docker/cuda-build-check.sh: what a CUDA build of the shim was compiled and
# linked with, shown on a machine without a GPU, a driver or cuDNN (the last
# step of Dockerfile.cuda-debian's build stage; also usable after any
# `make build` with CUDA). It fails, naming the check, when
#   - the shim was built without -DLV_WITH_CUDA;
#   - the fused kernels lack bfloat16 versions, sm_80 or sm_90 machine code
#     or compute_90 PTX (cuobjdump; CHECK_ARCH="sm_75 sm_80 ... compute_90"
#     for another CUDA_ARCH);
#   - the shim does not load libtorch_cuda and c10_cuda, or does not import
#     c10d's ProcessGroupGloo and ProcessGroupNCCL and ATen's CUDAGraph;
#   - `ludvae version` does not report "shim build: CUDA" and
#     "distributed: gloo yes, nccl yes".
# Debian's libtorch_cuda.so needs libcudnn.so.9, which nvidia-cudnn's
# installer downloads from NVIDIA and which a build without network to NVIDIA
# (Dockerfile.cuda-debian with CUDNN=none) does not have. Then `version` runs
# against a stand-in libcudnn.so.9 made here in a temporary folder: empty
# functions under the names libtorch_cuda.so imports, so that the dynamic
# loader (libtorch_cuda.so is linked with BIND_NOW) resolves them; `version`
# calls none of them. It is never installed and never reaches an image layer.
# Every other library is the real one. Without a driver `version` lists no
# CUDA device; `make gpu-check` on a machine with a GPU is the next step.
set -euo pipefail
cd "$(dirname "$0")/.."
shim=bin/libludvae_shim.so
fail() { echo "cuda-build-check: FAILED: $*" >&2; exit 1; }
[ -f "$shim" ] && [ -x bin/ludvae ] || fail "$shim or bin/ludvae missing: run make build first"
grep -q -- -DLV_WITH_CUDA build/shim/flags || fail "the shim was built without CUDA (make libtorch-info says why)"

echo "== fused kernels (cuobjdump)"
elf=$(cuobjdump --list-elf "$shim" | sed -n 's/.*\.\(sm_[0-9a-z]*\)\.cubin$/\1/p' | sort -u | tr '\n' ' ')
ptx=$(cuobjdump --list-ptx "$shim" | sed -n 's/.*\.\(sm_[0-9a-z]*\)\.ptx$/\1/p' | sort -u | tr '\n' ' ')
echo "machine code: $elf"
echo "PTX: ${ptx//sm_/compute_}"
bf16=$(cuobjdump --list-text "$shim" | grep -c '__nv_bfloat16' || true)
echo "bfloat16 kernels (all architectures): $bf16"
[ "$bf16" -gt 0 ] || fail "no bfloat16 kernels in $shim"
for a in ${CHECK_ARCH:-sm_80 sm_90 compute_90}; do
  case $a in
    compute_*) grep -qw "sm_${a#compute_}" <<<"$ptx" || fail "no $a PTX in $shim" ;;
    *) grep -qw "$a" <<<"$elf" || fail "no $a machine code in $shim" ;;
  esac
done

echo "== libraries, c10d groups and CUDA graphs the shim links"
needed=$(readelf -d "$shim" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "NEEDED: $needed"
for l in libtorch_cuda.so libc10_cuda.so; do
  grep -q "$l" <<<"$needed" || fail "$shim does not load $l"
done
imports=$(nm -D --undefined-only "$shim" | c++filt)
for c in c10d::ProcessGroupGloo c10d::ProcessGroupNCCL at::cuda::CUDAGraph; do
  n=$(grep -c "$c::" <<<"$imports" || true)
  echo "imports from $c: $n symbols"
  [ "$n" -gt 0 ] || fail "$shim imports nothing of $c"
done

echo "== ldd (libraries not found)"
missing=$(ldd "$shim" | awk '/not found/ { print $1 }' | tr '\n' ' ')
echo "${missing:-none}"
env=()
if [ -n "$missing" ]; then
  [ "$missing" = "libcudnn.so.9 " ] || fail "libraries not found besides cuDNN: $missing"
  torch_cuda=$(ldd "$shim" | awk '$1 == "libtorch_cuda.so" || $1 ~ /^libtorch_cuda\.so/ { print $3; exit }')
  stub=$(mktemp -d)
  trap 'rm -rf "$stub"' EXIT
  readelf --dyn-syms -W "$torch_cuda" | awk '$7 == "UND" && $8 ~ /@libcudnn\.so\.9/ { sub(/@.*/, "", $8); print "void " $8 "(void) {}" }' >"$stub/cudnn.c"
  printf 'libcudnn.so.9 { global: *; };\n' >"$stub/cudnn.map"
  gcc -shared -fPIC -o "$stub/libcudnn.so.9" -Wl,-soname,libcudnn.so.9 -Wl,--version-script,"$stub/cudnn.map" "$stub/cudnn.c"
  echo "cuDNN absent: ludvae version runs against a stand-in libcudnn.so.9 ($(wc -l <"$stub/cudnn.c") empty functions)"
  env=(env "LD_LIBRARY_PATH=$stub${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
fi

echo "== ludvae version"
out=$("${env[@]}" bin/ludvae version 2>&1) || { echo "$out"; fail "ludvae version"; }
echo "$out"
grep -q '^shim build: CUDA' <<<"$out" || fail "ludvae version does not report a CUDA shim"
grep -q '^distributed: gloo yes, nccl yes' <<<"$out" || fail "ludvae version does not report gloo and nccl"
echo "cuda-build-check: ok"
