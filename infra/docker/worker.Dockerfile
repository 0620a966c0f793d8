# syntax=docker/dockerfile:1
# ode-worker: renders queued exports; /metrics and /health on 9090 (worker.metrics_port,
# bound on api.host). On SIGTERM it finishes the jobs in flight (worker.shutdown_grace_secs).
#   docker build -f infra/docker/worker.Dockerfile --build-arg BUILD_IMAGE=ode-build:local -t ode-worker .
ARG BUILD_IMAGE=ode-build:local

# checkov:skip=CKV_DOCKER_7:BUILD_IMAGE is the locally built shared stage (build.Dockerfile), tagged per commit by the CD workflow (ode-build:${GITHUB_SHA}); its default ode-build:local is a local tag, not :latest.
FROM ${BUILD_IMAGE} AS build

FROM debian:bookworm-slim AS runtime
# The RDS certificate bundle: the database URL asks for sslmode=verify-full against it
# (sslrootcert=/etc/ode/rds-global-bundle.pem, see infra/k8s/base/00-common.yaml).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin ode \
 && mkdir -p /etc/ode \
 && curl -fsSL --proto '=https' -o /etc/ode/rds-global-bundle.pem \
      https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
COPY --from=build /out/ode-worker /usr/local/bin/
ENV ODE__API__HOST=0.0.0.0 \
    ODE__WORKER__METRICS_PORT=9090
USER 10001:10001
WORKDIR /tmp
EXPOSE 9090
STOPSIGNAL SIGTERM
# Rendering may keep the process busy at start-up: a longer warm-up than the API.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9090/health"]
ENTRYPOINT ["/usr/local/bin/ode-worker"]
