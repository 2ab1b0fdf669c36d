#!/bin/sh
# find-libtorch.sh prints make variable assignments describing the libtorch to
# build the shim against:
#   LIBTORCH unset  -> Debian's libtorch-dev (headers in /usr/include, libs in
#                      the multiarch dir)
#   LIBTORCH=DIR    -> an unpacked libtorch zip, or a pip torch package folder
#                      (python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')
# Variables: TORCH_INC (compiler -I flags), TORCH_LIBDIR, TORCH_ABI (0/1),
# TORCH_CUDA (0/1), TORCH_VERSION, TORCH_CXXSTD (c++17, or c++20 where the
# headers refuse anything older, as from libtorch 2.14 on).
set -eu
if [ -n "${LIBTORCH:-}" ]; then
  dir=$(cd "$LIBTORCH" && pwd) || { echo "LIBTORCH=$LIBTORCH: no such directory" >&2; exit 1; }
  inc="$dir/include"
  libdir="$dir/lib"
  cfg="$dir/share/cmake/Torch/TorchConfig.cmake"
  [ -f "$inc/torch/script.h" ] || { echo "LIBTORCH=$dir: $inc/torch/script.h missing (expected an unpacked libtorch or a pip torch folder)" >&2; exit 1; }
  [ -f "$libdir/libtorch.so" ] || { echo "LIBTORCH=$dir: $libdir/libtorch.so missing" >&2; exit 1; }
  flags="-isystem $inc -isystem $inc/torch/csrc/api/include"
else
  arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
  inc=/usr/include
  libdir=/usr/lib/$arch
  cfg="$libdir/cmake/Torch/TorchConfig.cmake"
  [ -f "$inc/torch/script.h" ] || { echo "libtorch-dev is not installed (no $inc/torch/script.h): run 'make deps' or set LIBTORCH=DIR" >&2; exit 1; }
  flags="-isystem $inc/torch/csrc/api/include"
fi
abi=1
if [ -f "$cfg" ]; then
  abi=$(sed -n 's/.*_GLIBCXX_USE_CXX11_ABI=\([01]\).*/\1/p' "$cfg" | head -n1)
  [ -n "$abi" ] || abi=1
fi
cuda=0
[ -f "$libdir/libtorch_cuda.so" ] && cuda=1
# From libtorch 2.10 torch/version.h may only include torch/headeronly/version.h.
ver() {
  sed -n "s/^#define TORCH_VERSION_$1 \([0-9]*\).*/\1/p" "$inc/torch/csrc/api/include/torch/version.h" \
    "$inc/torch/headeronly/version.h" 2>/dev/null | head -n1
}
version="$(ver MAJOR).$(ver MINOR).$(ver PATCH)"
std=c++17
for h in "$inc/ATen/ATen.h" "$inc/torch/csrc/api/include/torch/all.h"; do
  grep -qsE '^[[:space:]]*#[[:space:]]*if.*<[[:space:]]*202002L' "$h" && std=c++20
done
echo "TORCH_INC=$flags"
echo "TORCH_LIBDIR=$libdir"
echo "TORCH_ABI=$abi"
echo "TORCH_CUDA=$cuda"
echo "TORCH_VERSION=$version"
echo "TORCH_CXXSTD=$std"
