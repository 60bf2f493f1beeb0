# The Operon operator image: the compiled JavaScript of the framework and the operators, the
# production dependencies and Node.js 24. (Node could run the .ts sources directly, but stripping
# types at run time costs about 30 MB of resident memory per operator; docs/dependencies.md.)
#
#   docker build -t <registry>/operon/operator:0.1.0 .
#   docker run --rm <registry>/operon/operator:0.1.0 operators/crypto/operator.js --all-namespaces
#
# One image serves every operator in operators/: the entrypoint is `operon run`, the arguments
# name the operator file and its options (deploy/crypto, deploy/printer). Without a container
# engine, deploy/image/build.sh assembles the same root filesystem offline (same layout, user,
# entrypoint and environment; docs/deployment.md).

# Build stage: production dependencies only, exactly as locked. No install scripts run: none of
# the runtime dependencies needs one.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json tsconfig.image.json ./
COPY src ./src
COPY operators ./operators
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && node_modules/.bin/tsc -p tsconfig.image.json --outDir /out \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -f node_modules/.package-lock.json

# Final stage: glibc, libstdc++, CA certificates and Node 24 at /nodejs/bin/node; no shell, no
# package manager. Its "nonroot" user is 65532.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
# The compiled application last: an ordinary code change rebuilds only this layer.
# The framework where package.json `exports` points (the operators import `operon-k8s`, which
# resolves to it by self-reference), the operators where the manifests name them.
COPY --from=build /out/src ./dist/src
COPY --from=build /out/operators ./operators
# The distroless entrypoint is /nodejs/bin/node; put it on PATH so the entrypoint below reads
# like the command line it is (and matches the offline build).
ENV PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin \
    NODE_ENV=production
# Numeric, so that the kubelet can check runAsNonRoot without reading /etc/passwd.
USER 65532:65532
ENTRYPOINT ["node", "--max-semi-space-size=1", "dist/src/cli/main.js", "run"]
