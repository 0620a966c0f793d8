# syntax=docker/dockerfile:1
# ode-api: the HTTP API on 8080 (GET /health, /ready, /metrics, /v1/...), plus the `ode` CLI
# for `ode admin create-tenant NAME` (kubectl exec). Build the shared stage first:
#   docker build -f infra/docker/build.Dockerfile -t ode-build:local .
#   docker build -f infra/docker/api.Dockerfile --build-arg BUILD_IMAGE=ode-build:local -t ode-api .
ARG BUILD_IMAGE=ode-build:local

# checkov:skip=CKV_DOCKER_7:BUILD_IMAGE is the locally built shared stage (build.Dockerfile), tagged per commit by the CD workflow (ode-build:${GITHUB_SHA}); its default ode-build:local is a local tag, not :latest.
FROM ${BUILD_IMAGE} AS build

FROM debian:bookworm-slim AS runtime
# The RDS certificate bundle: the database URL asks for sslmode=verify-full against it
# (sslrootcert=/etc/ode/rds-global-bundle.pem, see infra/k8s/base/00-common.yaml).
# ca-certificates: TLS to S3 and Redis; curl: the HEALTHCHECK below. Versions come with the
# pinned base image (Debian stable security updates), hence no per-package pins.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin ode \
 && mkdir -p /etc/ode \
 && curl -fsSL --proto '=https' -o /etc/ode/rds-global-bundle.pem \
      https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
COPY --from=build /out/ode-api /out/ode /usr/local/bin/
ENV ODE__API__HOST=0.0.0.0 \
    ODE__API__PORT=8080
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/health"]
ENTRYPOINT ["/usr/local/bin/ode-api"]
