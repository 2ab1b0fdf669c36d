# docker/docker.mk: ludvae's Docker images (included from the Makefile; also
# usable alone: make -f docker/docker.mk docker-test). See docker/README.md.
#
#   make docker-test        start an engine if none answers, build the CPU images
#                           (Debian 12 and 13) and run the whole job in them; a summary
#   make docker-base        ludvae-base:bookworm and :trixie from Debian's archive
#                           (debootstrap), for machines that cannot pull debian:12.x/13.x
#   make docker-build-cpu   ludvae:cpu-debian12 (also tagged ludvae:cpu), ludvae:cpu-debian13
#   make docker-make-test   `make test` inside ludvae:dev-debian13 (DOCKER_SUITE=bookworm: 12)
#   make docker-build-cuda [CUDNN=none]  ludvae:cuda (Dockerfile.cuda-debian)
#   make docker-build-cuda-official LIBTORCH_SHA256=... GO_SHA256=...  the nvidia/cuda alternative
#
# For recipes (e.g. `make train-sidd DOCKER=1`):
#   $(LUDVAE) ARGS        bin/ludvae ARGS, or with DOCKER=1 the image DOCKER_IMAGE
#                         (default the CUDA one, with --gpus all; a CPU image such
#                         as ludvae:cpu runs without --gpus) with $(DOCKER_DATA) at
#                         /data and $(DOCKER_RUNS) at /work/runs, as DOCKER_USER
#   $(LUDVAE_DATA)        the data folder as $(LUDVAE) sees it
#   $(DOCKER_RUN) ARGS    the image DOCKER_IMAGE; $(DOCKER_RUN_CPU): the CPU one
#
# Variables: DOCKER_CLI (docker), DOCKER_IMAGE, DOCKER_IMAGE_CUDA,
# DOCKER_IMAGE_CPU, DOCKER_GPUS (--gpus all for the CUDA image, else empty),
# DOCKER_USER (the calling user's uid:gid), DOCKER_DATA (default $(DATA),
# else data), DOCKER_RUNS (./runs), DOCKER_DOWNLOADS (the folder `ludvae
# prepare` linked from: mounted read-only at the same path, so that its
# absolute symlinks resolve in the container), DOCKER_BUILD_FLAGS.
# The CUDA image's digests (and how to obtain them): third_party/README.md.

DOCKER_CLI ?= docker
DOCKER_IMAGE_CUDA ?= ludvae:cuda
DOCKER_IMAGE_CPU ?= ludvae:cpu
DOCKER_IMAGE ?= $(DOCKER_IMAGE_CUDA)
DOCKER_GPUS ?= $(if $(filter $(DOCKER_IMAGE_CUDA),$(DOCKER_IMAGE)),--gpus all)
DOCKER_USER ?= $(shell id -u):$(shell id -g)
DOCKER_DATA ?= $(if $(DATA),$(DATA),data)
DOCKER_RUNS ?= $(CURDIR)/runs
DOCKER_SUITE ?= trixie
DOCKER_DOWNLOADS ?=
DOCKER_BUILD_FLAGS ?=
LIBTORCH_SHA256 ?=
GO_SHA256 ?=

docker_build = DOCKER_BUILDKIT=1 $(DOCKER_CLI) build $(DOCKER_BUILD_FLAGS) \
	$(if $(GO_SHA256),--build-arg GO_SHA256=$(GO_SHA256))

docker_mounts = -v $(abspath $(DOCKER_DATA)):/data -v $(abspath $(DOCKER_RUNS)):/work/runs \
	$(if $(DOCKER_DOWNLOADS),-v $(abspath $(DOCKER_DOWNLOADS)):$(abspath $(DOCKER_DOWNLOADS)):ro)

# The runs folder is created first so that Docker does not create it as root;
# a root caller running the image as another DOCKER_USER gives it to that user.
docker_run = mkdir -p $(abspath $(DOCKER_RUNS)) && { [ "$$(id -u)" != 0 ] || chown $(DOCKER_USER) $(abspath $(DOCKER_RUNS)); } && $(DOCKER_CLI) run --rm --network host -u $(DOCKER_USER) -e HOME=/tmp $(docker_mounts)
DOCKER_RUN = $(docker_run) $(DOCKER_GPUS) $(DOCKER_IMAGE)
DOCKER_RUN_CPU = $(docker_run) $(DOCKER_IMAGE_CPU)

LUDVAE = $(if $(filter 1,$(DOCKER)),$(DOCKER_RUN),bin/ludvae)
LUDVAE_DATA = $(if $(filter 1,$(DOCKER)),/data,$(DOCKER_DATA))

.PHONY: docker-build docker-build-cuda docker-build-cuda-official docker-build-cpu docker-base docker-test docker-make-test

docker-build: docker-build-cuda docker-build-cpu

# ludvae:cuda is Dockerfile.cuda-debian (docker/README.md, "CUDA image"): on
# debian:13.8 or, when that cannot be pulled, ludvae-base:trixie; the host's
# CA bundle is a build secret for TLS-inspecting proxies (no layer keeps it).
# CUDNN=none builds without NVIDIA's cuDNN download (compile and link only).
CUDNN ?= nvidia
DOCKER_CA_CERTS ?= /etc/ssl/certs/ca-certificates.crt
docker_ca_secret = --secret id=cacerts,src=$(DOCKER_CA_CERTS)
docker-build-cuda:
	DOCKER_CLI="$(DOCKER_CLI)"; . docker/lib.sh && base=$$(resolve_base trixie) && \
	docker_build --network host --build-arg DEBIAN="$$base" --build-arg CUDNN=$(CUDNN) \
		$(if $(wildcard $(DOCKER_CA_CERTS)),$(docker_ca_secret)) $(DOCKER_BUILD_FLAGS) \
		-f docker/Dockerfile.cuda-debian -t $(DOCKER_IMAGE_CUDA) .

# The alternative on NVIDIA's and pytorch.org's downloads (never built here).
docker-build-cuda-official:
	$(docker_build) $(if $(LIBTORCH_SHA256),--build-arg LIBTORCH_SHA256=$(LIBTORCH_SHA256)) \
		-f docker/Dockerfile.cuda -t $(DOCKER_IMAGE_CUDA) .

# The CPU images (docker/build.sh: BuildKit, --network host, the official
# Debian base or ludvae-base:SUITE, a one-line cause on failure).
docker-build-cpu:
	DOCKER_CLI="$(DOCKER_CLI)" DOCKER_BUILD_FLAGS="$(DOCKER_BUILD_FLAGS)" GO_SHA256="$(GO_SHA256)" \
	  ./docker/build.sh bookworm runtime ludvae:cpu-debian12
	$(DOCKER_CLI) tag ludvae:cpu-debian12 $(DOCKER_IMAGE_CPU)
	DOCKER_CLI="$(DOCKER_CLI)" DOCKER_BUILD_FLAGS="$(DOCKER_BUILD_FLAGS)" GO_SHA256="$(GO_SHA256)" \
	  ./docker/build.sh trixie runtime ludvae:cpu-debian13

docker-base:
	DOCKER_CLI="$(DOCKER_CLI)" ./docker/base.sh bookworm trixie

docker-test:
	DOCKER_CLI="$(DOCKER_CLI)" DOCKER_BUILD_FLAGS="$(DOCKER_BUILD_FLAGS)" GO_SHA256="$(GO_SHA256)" \
	  ./docker/test.sh

docker-make-test:
	DOCKER_CLI="$(DOCKER_CLI)" DOCKER_BUILD_FLAGS="$(DOCKER_BUILD_FLAGS)" GO_SHA256="$(GO_SHA256)" \
	  ./docker/make-test.sh $(DOCKER_SUITE)
