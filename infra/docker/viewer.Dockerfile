# syntax=docker/dockerfile:1
# ode-viewer: the React viewer (shells/viewer) on unprivileged nginx, port 8080.
#   docker build -f infra/docker/viewer.Dockerfile -t ode-viewer .
#   docker run -p 8080:8080 -e ODE_VIEWER_API_URL=https://api.example.com ode-viewer
#
# Three stages:
#   wasm    the npm package @ode/engine (wasm/npm/dist) by wasm/build.sh: the ode-wasm crate for
#           wasm32-unknown-unknown plus the wasm-bindgen CLI at the version wasm/Cargo.toml pins.
#           Dependencies are compiled from cargo-chef's recipe first (as in build.Dockerfile).
#   viewer  npm ci + npm run build in shells/viewer (which depends on file:../../wasm/npm).
#   runtime nginx serving dist/; /config.json is written at start from ODE_VIEWER_API_URL.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS chef
RUN rustup target add wasm32-unknown-unknown \
 && cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS wasm
# The wasm-bindgen CLI must be the exact version the crate pins (`wasm-bindgen = "=X.Y.Z"`):
# read from wasm/Cargo.toml alone, so this layer is rebuilt only when that file changes.
# (`--locked` fails for this crate, hence left out.)
COPY wasm/Cargo.toml /tmp/ode-wasm-Cargo.toml
RUN version="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' /tmp/ode-wasm-Cargo.toml)" \
 && test -n "$version" \
 && cargo install wasm-bindgen-cli --version "$version" \
 && test "$(wasm-bindgen --version)" = "wasm-bindgen $version"
# wasm/build.sh reads the target dir from here (it would ask node otherwise).
ENV CARGO_TARGET_DIR=/src/target
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --profile wasm --target wasm32-unknown-unknown --locked -p ode-wasm \
    --recipe-path recipe.json
COPY . .
# Both builds (full, with the DejaVu fonts, and lite) into wasm/npm/dist.
RUN ./wasm/build.sh \
 && test -f wasm/npm/dist/full/ode_wasm_bg.wasm

FROM node:22-bookworm-slim AS viewer
WORKDIR /src/shells/viewer
# Dependencies first: this layer is reused until a lock file changes. @ode/engine is a link to
# ../../wasm/npm, whose package.json is all npm ci needs of it.
COPY wasm/npm/package.json /src/wasm/npm/package.json
COPY shells/viewer/package.json shells/viewer/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY --from=wasm /src/wasm/npm /src/wasm/npm
COPY shells/viewer/ ./
# Every compressible file gets a .gz sibling (unless the build wrote one) for nginx's
# gzip_static: the module (about 12 MB) is compressed once here, not on each request.
RUN npm run build \
 && test -f dist/index.html \
 && find dist -type f -size +1k \
      \( -name '*.wasm' -o -name '*.js' -o -name '*.mjs' -o -name '*.css' -o -name '*.html' \
         -o -name '*.svg' -o -name '*.json' -o -name '*.txt' -o -name '*.map' -o -name '*.ttf' \) \
      -exec sh -c 'for f; do [ -e "$f.gz" ] || gzip -9 -k -n "$f"; done' sh {} +

FROM nginxinc/nginx-unprivileged:1.28-alpine AS runtime
COPY infra/docker/viewer-nginx.conf /etc/nginx/conf.d/default.conf
# The image's entrypoint runs /docker-entrypoint.d/*.sh before nginx starts.
COPY --chmod=0755 infra/docker/viewer-config.sh /docker-entrypoint.d/40-ode-viewer-config.sh
COPY --from=viewer /src/shells/viewer/dist /usr/share/nginx/html
# The API's origin for config.json (https://api.<domain>); empty: the viewer's own origin.
ENV ODE_VIEWER_API_URL=""
USER 101
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
