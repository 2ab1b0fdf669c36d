# docker/docker.mk: ludvae's Docker images (included from the Makefile; also
# usable alone: make -f docker/docker.mk docker-build). See docker/README.md.
#
#   make docker-build LIBTORCH_SHA256=... GO_SHA256=...   ludvae:cuda and ludvae:cpu
#   make docker-build-cuda / docker-build-cpu             one of them
#
# For recipes (e.g. `make train-sidd DOCKER=1`):
#   $(LUDVAE) ARGS        bin/ludvae ARGS, or with DOCKER=1 the CUDA image
#                         (--gpus all) with $(DOCKER_DATA) at /data and ./runs
#                         at /work/runs, as the calling user
#   $(LUDVAE_DATA)        the data folder as $(LUDVAE) sees it
#   $(DOCKER_RUN) ARGS    always the CUDA image; $(DOCKER_RUN_CPU): the CPU one
#
# Variables: DOCKER_CLI (docker), DOCKER_IMAGE_CUDA, DOCKER_IMAGE_CPU,
# DOCKER_DATA (default $(DATA), else data), DOCKER_DOWNLOADS (the folder
# `ludvae prepare` linked from: mounted read-only at the same path, so that
# its absolute symlinks resolve in the container), DOCKER_BUILD_FLAGS.
# The digests (and how to obtain them) are in third_party/README.md.

DOCKER_CLI ?= docker
DOCKER_IMAGE_CUDA ?= ludvae:cuda
DOCKER_IMAGE_CPU ?= ludvae:cpu
DOCKER_DATA ?= $(if $(DATA),$(DATA),data)
DOCKER_DOWNLOADS ?=
DOCKER_BUILD_FLAGS ?=
LIBTORCH_SHA256 ?=
GO_SHA256 ?=

docker_build = DOCKER_BUILDKIT=1 $(DOCKER_CLI) build $(DOCKER_BUILD_FLAGS) \
	$(if $(GO_SHA256),--build-arg GO_SHA256=$(GO_SHA256))

docker_mounts = -v $(abspath $(DOCKER_DATA)):/data -v $(CURDIR)/runs:/work/runs \
	$(if $(DOCKER_DOWNLOADS),-v $(abspath $(DOCKER_DOWNLOADS)):$(abspath $(DOCKER_DOWNLOADS)):ro)

# runs/ is created first so that Docker does not create it as root.
docker_run = mkdir -p $(CURDIR)/runs && $(DOCKER_CLI) run --rm -u $$(id -u):$$(id -g) -e HOME=/tmp $(docker_mounts)
DOCKER_RUN = $(docker_run) --gpus all $(DOCKER_IMAGE_CUDA)
DOCKER_RUN_CPU = $(docker_run) $(DOCKER_IMAGE_CPU)

LUDVAE = $(if $(filter 1,$(DOCKER)),$(DOCKER_RUN),bin/ludvae)
LUDVAE_DATA = $(if $(filter 1,$(DOCKER)),/data,$(DOCKER_DATA))

.PHONY: docker-build docker-build-cuda docker-build-cpu

docker-build: docker-build-cuda docker-build-cpu

docker-build-cuda:
	$(docker_build) $(if $(LIBTORCH_SHA256),--build-arg LIBTORCH_SHA256=$(LIBTORCH_SHA256)) \
		-f docker/Dockerfile.cuda -t $(DOCKER_IMAGE_CUDA) .

docker-build-cpu:
	$(docker_build) -f docker/Dockerfile.cpu -t $(DOCKER_IMAGE_CPU) .
