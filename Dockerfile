# The Operon operator image: Node.js 24 runs the TypeScript sources directly (type stripping, no
# build step), so the image is the sources, the production dependencies and Node.
#
#   docker build -t <registry>/operon/operator:0.1.0 .
#   docker run --rm <registry>/operon/operator:0.1.0 operators/crypto/operator.ts --all-namespaces
#
# One image serves every operator in operators/: the entrypoint is `operon run`, the arguments
# name the operator file and its options (deploy/crypto, deploy/printer). Without a container
# engine, deploy/image/build.sh assembles the same root filesystem offline (same layout, user,
# entrypoint and environment; docs/deployment.md).

# Build stage: production dependencies only, exactly as locked. No install scripts run: none of
# the runtime dependencies needs one.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -f node_modules/.package-lock.json

# Final stage: glibc, libstdc++, CA certificates and Node 24 at /nodejs/bin/node; no shell, no
# package manager. Its "nonroot" user is 65532.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
# Sources last: an ordinary code change rebuilds only this layer. .dockerignore leaves tests out.
COPY src ./src
COPY operators ./operators
# The distroless entrypoint is /nodejs/bin/node; put it on PATH so the entrypoint below reads
# like the command line it is (and matches the offline build).
ENV PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin \
    NODE_ENV=production
# Numeric, so that the kubelet can check runAsNonRoot without reading /etc/passwd.
USER 65532:65532
ENTRYPOINT ["node", "src/cli/main.ts", "run"]
