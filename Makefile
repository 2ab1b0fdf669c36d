# ludvae build. `make test` on a fresh Debian 12 machine installs what is
# missing (apt), builds the libtorch shim and the Go code, and runs every test.
#
#   make deps     install libtorch-dev, libjpeg62-turbo-dev, python3-torch, ... through apt if missing,
#                 and onnxruntime-node through npm into build/onnxruntime
#   make shim     bin/libludvae_shim.so (CPU, or CUDA when libtorch has CUDA and nvcc exists)
#   make build    bin/ludvae
#   make demo     the whole job on scikit-image's sample photos (from Debian's archive), on the CPU (about 6 minutes on a 2-core machine)
#   make demo-model  trains the demo's recipe longer (resumable) and scores it against Gaussian noise
#   make table2   the paper's Table 2 in miniature on the demo's photos: denoisers trained on Gaussian,
#                 LUD-VAE and true pairs, scored on held-out camera noise (17 minutes on a shared 2-core machine, after the demo)
#   make test     deps, shim and build, then go vet and every Go test (Python's torch checks our files)
#   make bench    benchmarks: fused kernels, data loader, JPEG decoding, ludvae vs PyTorch eager,
#                 then bench-data
#   make bench-data  training's memory and start on generated photos of SIDD's size
#                 (train/store/bench/memory.sh: about 20 GB of disk, 30+ minutes)
#   make train-sidd|train-aim19|train-ntire20 DATA=DIR [DOCKER=1]
#                 the paper's training on a folder `ludvae prepare` made
#   make docker-build  the CUDA and CPU images (docker/README.md)
#   make docker-test   build the CPU images (Debian 12 and 13) and run the whole job in them
#   make gpu-check-prepare, then make gpu-check [GPU=0]: the GPU machine's check
#
# LIBTORCH=DIR builds against an unpacked libtorch or a pip torch package
# folder instead of Debian's libtorch (see third_party/README.md).

SHELL := /bin/bash
GO ?= go
CXX ?= g++
NVCC ?= $(shell command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)
# The toolkit nvcc belongs to (Debian's /usr/bin/nvcc is a wrapper script whose
# toolkit headers live in /usr/include, which must not become an -isystem).
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(realpath $(NVCC)))
CUDA_INC := $(if $(filter /usr,$(CUDA_HOME)),,-isystem $(CUDA_HOME)/include)
# A100 and H100 machine code, plus H100 PTX that newer cards compile at load.
# An empty CUDA_ARCH (Docker's `ARG CUDA_ARCH=` exports one) keeps the
# default too: `?=` alone would take it and leave nvcc on its own default arch.
ifeq ($(strip $(CUDA_ARCH)),)
CUDA_ARCH := -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
endif
# The CUDA runtime for the shim's kernels. Static, as nvcc links by default:
# a toolkit's shared libcudart would load before, and instead of, the newer
# one a pip torch brings, and torch would run on it. A toolkit without the
# static library (pip's CUDA wheels) gets the shared one torch itself loads:
# the name libc10_cuda.so asks for (libcudart.so.13, say), from torch's
# nvidia/*/lib folders first, by path, with that folder as rpath.
CUDART_DIRS = $(foreach d,lib64 lib targets/x86_64-linux/lib lib/x86_64-linux-gnu,$(CUDA_HOME)/$(d))
CUDART_STATIC = $(firstword $(wildcard $(addsuffix /libcudart_static.a,$(CUDART_DIRS))))
CUDART_NAME = $(or $(firstword $(shell readelf -d $(TORCH_LIBDIR)/libc10_cuda.so $(TORCH_LIBDIR)/libtorch_cuda.so 2>/dev/null | sed -n 's/.*\[\(libcudart\.so\.[0-9]*\)\].*/\1/p')),libcudart.so.[0-9]*)
CUDART_SHARED = $(abspath $(firstword $(wildcard $(addsuffix /$(CUDART_NAME),$(TORCH_LIBDIR)/../../nvidia/*/lib $(CUDART_DIRS)))))
CUDART_FOUND = $(if $(CUDART_STATIC),$(CUDART_STATIC) -ldl -lrt -lpthread,$(if $(CUDART_SHARED),$(CUDART_SHARED) -Wl$(comma)-rpath$(comma)$(dir $(CUDART_SHARED))))
CUDART_MISSING = no libcudart_static.a in $(CUDART_DIRS), nor $(CUDART_NAME) there or beside torch
CUDART = $(or $(CUDART_FOUND),$(error $(CUDART_MISSING): set CUDA_HOME to the toolkit))
comma := ,
# GPU=0 forces a CPU shim even when libtorch and nvcc could build a CUDA one.
GPU ?= auto
APT_PACKAGES := libtorch-dev libgloo-dev libjpeg62-turbo-dev python3-torch python3-numpy python3-pil python3-opencv python3-onnx g++ make
# onnxruntime for Node (npm; --ignore-scripts: the package bundles the CPU
# runtime): the independent runtime the ONNX export tests run the files with.
ORT_NODE_VERSION := 1.31.1
ORT_NODE := build/onnxruntime/node_modules/onnxruntime-node
PY ?= /usr/bin/python3
BENCH_FLAGS ?= --device cpu

BUILD := build/shim
SHIM := bin/libludvae_shim.so
SHIM_SRC := $(wildcard torchbind/shim/*.cpp)
SHIM_CU := $(wildcard torchbind/shim/*.cu)
SHIM_HDR := $(wildcard torchbind/shim/*.h)

# find-libtorch.sh output, evaluated once per make run (and never for deps).
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
$(foreach line,$(shell LIBTORCH=$(LIBTORCH) ./third_party/find-libtorch.sh 2>/dev/null | tr ' ' '~'),$(eval $(subst ~, ,$(line))))
endif

WITH_CUDA := 0
ifeq ($(TORCH_CUDA),1)
ifneq ($(GPU),0)
ifneq ($(wildcard $(NVCC)),)
WITH_CUDA := 1
endif
endif
endif

# The C++ standard the libtorch headers demand (c++20 from libtorch 2.14 on).
CXXSTD ?= $(or $(TORCH_CXXSTD),c++17)
# -ffp-contract=off: no fused multiply-adds, so that the CPU noise is the
# CUDA noise bit for bit (torchbind/shim/philox.h).
CXXFLAGS := -std=$(CXXSTD) -O2 -ffp-contract=off -fPIC -Wall -Wundef -Wno-unused-function -D_GLIBCXX_USE_CXX11_ABI=$(TORCH_ABI) $(TORCH_INC)
# Recursive (=), so that $(CUDART) is looked for only when the shim is linked.
LDLIBS = -L$(TORCH_LIBDIR) -Wl,-rpath,$(TORCH_LIBDIR) -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10
# Debian's libtorch runs its parallel regions on the system libgomp; the
# fused kernels join the same OpenMP thread team instead of starting threads
# of their own next to it. (A pip torch bundles its own libgomp, which must
# not be mixed with the system one: there the kernels use plain threads.)
ifeq ($(LIBTORCH),)
CXXFLAGS += -fopenmp
LDLIBS += -fopenmp
endif
OBJS := $(patsubst torchbind/shim/%.cpp,$(BUILD)/%.o,$(SHIM_SRC))
# dist.cpp's ProcessGroupNCCL needs nccl.h and, through ATen's
# CUDAContext.h, the cuBLAS/cuSPARSE/cuSOLVER headers: a pip torch keeps
# them in its nvidia/*/include folders (after the toolkit's, so that the
# toolkit's CUDA headers win). dist.cpp leaves NCCL out when any is missing.
NVIDIA_INC = $(wildcard $(TORCH_LIBDIR)/../../nvidia/*/include)
ifeq ($(WITH_CUDA),1)
CXXFLAGS += -DLV_WITH_CUDA $(CUDA_INC)
$(BUILD)/dist.o: CXXFLAGS += $(addprefix -isystem ,$(NVIDIA_INC))
LDLIBS += -ltorch_cuda -lc10_cuda $(CUDART)
OBJS += $(patsubst torchbind/shim/%.cu,$(BUILD)/%.cu.o,$(SHIM_CU))
endif

# Debian's libtorch starts with one intra-op thread; ludvae sets its own count,
# and tests see all cores through this too.
export OMP_NUM_THREADS ?= $(shell nproc)

.PHONY: all deps shim build test test-go bench bench-data vet clean libtorch-info demo demo-model table2

all: build

deps:
	@missing=""; \
	if [ -z "$(LIBTORCH)" ] && [ ! -f /usr/include/torch/script.h ]; then missing="$$missing libtorch-dev"; fi; \
	if [ -z "$(LIBTORCH)" ] && [ ! -f /usr/include/gloo/context.h ]; then missing="$$missing libgloo-dev"; fi; \
	if [ ! -f /usr/include/jpeglib.h ]; then missing="$$missing libjpeg62-turbo-dev"; fi; \
	if ! $(PY) -c "import torch, numpy, PIL, cv2, onnx" >/dev/null 2>&1; then missing="$$missing python3-torch python3-numpy python3-pil python3-opencv python3-onnx"; fi; \
	node=""; if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then node="nodejs npm"; missing="$$missing $$node"; fi; \
	if ! command -v $(CXX) >/dev/null 2>&1; then missing="$$missing g++"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $(APT_PACKAGES) $$node; \
	fi; \
	if [ ! -f $(ORT_NODE)/package.json ]; then \
	  echo "make deps: npm install onnxruntime-node@$(ORT_NODE_VERSION) into build/onnxruntime (the ONNX tests' runtime)"; \
	  npm install --prefix build/onnxruntime --ignore-scripts --no-audit --no-fund onnxruntime-node@$(ORT_NODE_VERSION); \
	fi

libtorch-info:
	@echo "libtorch $(TORCH_VERSION) at $(TORCH_LIBDIR) (cxx11 abi $(TORCH_ABI), cuda $(TORCH_CUDA), $(CXXSTD)); shim with CUDA: $(WITH_CUDA)"
ifeq ($(WITH_CUDA),1)
	@echo "nvcc $(NVCC), toolkit $(CUDA_HOME), CUDA runtime $(or $(CUDART_FOUND),none found: $(CUDART_MISSING))"
endif

shim: deps
	@$(MAKE) --no-print-directory -j$$(nproc) $(SHIM)

$(BUILD)/%.o: torchbind/shim/%.cpp $(SHIM_HDR) $(BUILD)/flags
	@mkdir -p $(BUILD)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/%.cu.o: torchbind/shim/%.cu $(SHIM_HDR) $(BUILD)/flags
	@mkdir -p $(BUILD)
	$(NVCC) -std=c++17 -O3 -Xcompiler -fPIC $(CUDA_ARCH) -c $< -o $@

# Rebuild every object when the libtorch, the CUDA choice or CUDA_ARCH changes.
SHIM_FLAGS = $(CXXFLAGS) $(LDLIBS) $(NVCC) $(CUDA_ARCH)
$(BUILD)/flags: FORCE
	@mkdir -p $(BUILD)
	@echo "$(SHIM_FLAGS)" | cmp -s - $@ || echo "$(SHIM_FLAGS)" > $@

$(SHIM): $(OBJS)
	@mkdir -p bin
	$(CXX) -shared -o $@ $(OBJS) $(LDLIBS)

FORCE:

# CGO_LDFLAGS from the environment is kept (Dockerfile.cuda-debian without cuDNN).
build: shim
	CGO_LDFLAGS="-Wl,-rpath,\$$ORIGIN $(CGO_LDFLAGS)" $(GO) build -o bin/ludvae ./cmd/ludvae

vet: shim
	$(GO) vet ./...

test: build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

# bench: the fused kernels against their composite formulas, the data
# loader, then ludvae against PyTorch eager (model/python/bench_eager.py) on
# the same libtorch, alternated BENCH_ROUNDS times, with each round's ratio
# and their median (model/python/bench_ratio.py).
BENCH_ROUNDS ?= 3
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 10x ./torchbind/
	$(GO) test -run '^$$' -bench . -benchtime 200x ./train/
	$(GO) test -run '^$$' -bench JPEG -benchtime 5x ./internal/images/ ./internal/jpegturbo/
	@for task in train synth; do \
	  rounds=build/bench-$$task.jsonl; : > $$rounds; \
	  for r in $$(seq $(BENCH_ROUNDS)); do \
	    ./bin/ludvae bench $$task $(BENCH_FLAGS) >> $$rounds || exit 1; \
	    $(PY) model/python/bench_eager.py $$task $(BENCH_FLAGS) >> $$rounds || exit 1; \
	  done; \
	  cat $$rounds; $(PY) model/python/bench_ratio.py $$rounds || exit 1; \
	done
	@$(MAKE) --no-print-directory bench-data

# bench-data: peak memory and start-up of training on generated photos of
# SIDD-Small's size, N and 4N per domain (BENCH_DATA_N, default 40), and
# of synthesis over many 2K photos; BENCH_DATA_DIR holds the data (kept for
# the next run).
BENCH_DATA_N ?= 40
BENCH_DATA_DIR ?= build/bench-data
bench-data: build
	@command -v /usr/bin/time >/dev/null || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; $$SUDO apt-get install -y -q time; }
	N=$(BENCH_DATA_N) WORK=$(BENCH_DATA_DIR) ./train/store/bench/memory.sh

# gpu-check: docker/gpu-check.sh, for a GPU machine without Go; prepare
# its carried binaries here first.
.PHONY: gpu-check gpu-check-prepare
gpu-check-prepare: build
	$(GO) test -c -o bin/torchbind.test ./torchbind
	$(GO) test -c -o bin/model.test ./model
	$(GO) test -c -o bin/train.test ./train
gpu-check:
	./docker/gpu-check.sh

# demo: see synth/demo/run.sh; DEMO_OUT (default demo-out) receives everything.
DEMO_OUT ?= demo-out
demo: build
	./synth/demo/photos.sh build/demo/photos
	./synth/demo/run.sh build/demo/photos $(DEMO_OUT)

# demo-model: see synth/demo/model.sh; trains the demo's recipe longer
# (DEMO_MODEL_STEPS) into DEMO_MODEL_OUT, resuming there, and scores it.
DEMO_MODEL_OUT ?= demo-model-out
demo-model: build
	./synth/demo/photos.sh build/demo/photos
	./synth/demo/model.sh build/demo/photos $(DEMO_MODEL_OUT)

# table2: see synth/demo/table2.sh; it reuses the demo's model in DEMO_OUT
# (running the demo first when there is none) and writes to TABLE2_OUT.
TABLE2_OUT ?= $(DEMO_OUT)/table2
table2: build
	./synth/demo/photos.sh build/demo/photos
	./synth/demo/table2.sh build/demo/photos $(DEMO_OUT) $(TABLE2_OUT)

clean:
	rm -rf build bin

include docker/docker.mk

# The paper's trainings. DATA is a folder made by `ludvae prepare` (clean/ and
# noisy/); runs go to runs/<preset> and resume when re-run. DOCKER=1 runs
# them in DOCKER_IMAGE: the CUDA image with the GPUs by default, a CPU one
# with DOCKER_IMAGE=ludvae:cpu (make docker-build first; docker/docker.mk).
DATA ?= data/sidd
.PHONY: train-sidd train-aim19 train-ntire20 check-data-sidd check-data-aim19 check-data-ntire20
# Before anything is built: a missing data folder is named, with the
# command that makes it.
check-data-sidd check-data-aim19 check-data-ntire20: check-data-%:
	@for d in clean noisy; do \
	  if [ ! -d "$(DOCKER_DATA)/$$d" ]; then \
	    echo "make train-$*: $(DOCKER_DATA)/$$d does not exist; DATA=$(DOCKER_DATA) must be a folder made by"; \
	    echo "  bin/ludvae prepare $* --from DOWNLOAD_DIR --to $(DOCKER_DATA)"; \
	    echo "where DOWNLOAD_DIR holds the unpacked download (docs/data-at-scale.md); or give DATA=DIR"; \
	    exit 1; \
	  fi; \
	done
train-sidd train-aim19 train-ntire20: train-%: check-data-% $(if $(filter 1,$(DOCKER)),,build)
	$(LUDVAE) train --clean $(LUDVAE_DATA)/clean --noisy $(LUDVAE_DATA)/noisy --out runs/$* --preset $* $(TRAIN_FLAGS)
