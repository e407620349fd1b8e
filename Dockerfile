# syntax=docker/dockerfile:1
# practice-gate: the admission webhook image.
#
# Build:   docker build -t practice-gate:0.1.0 .
# The base is pinned by version here; pin it by digest too when you publish
# (docs/install.md, "Build and publish the image"). Node 24 is the LTS line; .ci/run runs
# the unit suite on exactly this release (Docker Hub's node tags follow Node's releases).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# --- build: compile TypeScript with the dev dependencies ---------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# tsconfig.build.json compiles the product only (src/, policies/), never tests or benches;
# scripts/bundle-cli.mjs then bundles the CLI into dist/cli/practice-gate.js, what the image runs.
RUN npm run build

# --- deps: production dependencies only --------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
# No dependency needs an install script; refusing them keeps the build reproducible.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime -------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="practice-gate" \
      org.opencontainers.image.description="Kubernetes validating admission webhook that checks workloads against backend best practices" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

# The process needs node and nothing else: package managers in the final image are
# only attack surface (and scanner noise), and nothing may install at run time.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg

ENV NODE_ENV=production
# Huge pages and fixed thresholds for malloc, as the chart's deployment.yaml says why.
ENV GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=33554432
WORKDIR /app
# Owned by root and not writable by the runtime user: the app writes nothing, so the
# root filesystem can be mounted read-only.
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist/cli ./dist/cli
COPY package.json ./

# 65532 is the conventional "nonroot" uid/gid (as in distroless); numeric so the kubelet
# can verify runAsNonRoot without a passwd entry.
USER 65532:65532
EXPOSE 8443 8080
# The base image's entrypoint is a shell wrapper; clear it so node is PID 1's exec'd
# process and receives SIGTERM directly (practice-gate drains and exits on its own).
ENTRYPOINT []
# The default serves the certificate mounted where the Helm chart mounts it; the chart
# passes its own arguments. The bundle's source map turns stack traces back into src/ lines;
# the heap is sized as the chart's deployment.yaml says why.
CMD ["node", "--enable-source-maps", "--max-semi-space-size=16", "--heap-growing-percent=200", "dist/cli/practice-gate.js", "serve", "--port", "8443", "--host", "0.0.0.0", "--probe-port", "8080", \
     "--tls-cert", "/etc/practice-gate/tls/tls.crt", "--tls-key", "/etc/practice-gate/tls/tls.key"]
