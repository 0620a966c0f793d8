# syntax=docker/dockerfile:1
# ode-viewer: the React viewer (shells/viewer, NOT in the repository yet) built by Vite and
# served as static files by unprivileged nginx on 8080. Expects shells/viewer/package.json,
# package-lock.json and an `npm run build` writing dist/.
#   docker build -f infra/docker/viewer.Dockerfile -t ode-viewer .
FROM node:22-bookworm-slim AS build
WORKDIR /app
# Dependencies first: this layer is reused until the lock file changes.
COPY shells/viewer/package.json shells/viewer/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY shells/viewer/ ./
RUN npm run build

FROM nginxinc/nginx-unprivileged:1.28-alpine AS runtime
COPY infra/docker/viewer-nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=build /app/dist /usr/share/nginx/html
USER 101
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
