# syntax=docker/dockerfile:1
# The shared build stage (the report's third image, "ode-build"): compiles the workspace once;
# api.Dockerfile and worker.Dockerfile copy their binaries out of it.
#   docker build -f infra/docker/build.Dockerfile -t ode-build:local .
# Dependencies are compiled from cargo-chef's recipe (only Cargo.toml / Cargo.lock content), so
# that layer is reused until a dependency changes; a source edit rebuilds only ODE's crates.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS chef
# cmake and pkg-config for aws-lc-sys; Debian's versions are whatever the pinned base ships.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake pkg-config \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json -p ode-api -p ode-worker -p ode-cli
COPY . .
RUN cargo build --release --locked -p ode-api -p ode-worker -p ode-cli --bins \
 && mkdir -p /out \
 && cp target/release/ode-api target/release/ode-worker target/release/ode /out/ \
 && strip /out/ode-api /out/ode-worker /out/ode

# Nothing runs from this image; it is a build cache and a source of binaries.
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin ode
USER 10001
HEALTHCHECK NONE
