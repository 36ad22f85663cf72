# syntax=docker/dockerfile:1
# Production image: compiled JavaScript on Node 24 slim, production dependencies only, non-root.
#   docker build -t lark-auth-service .
#   docker run -p 50051:50051 -p 8080:8080 -e DATABASE_URL=... -e LARK_AUTH_CONFIG=... lark-auth-service
ARG NODE_IMAGE=node:24-bookworm-slim

# 1. Compile TypeScript (needs the dev dependencies: typescript).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY gen ./gen
COPY migrations ./migrations
RUN npm run build

# 2. Production dependencies only, in a stage of their own so the compiler never reaches the image.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 3. The runtime: no npm in the start path, so SIGTERM reaches the service itself (PID 1 handles it).
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    LARK_AUTH_DATA_DIR=/var/lib/lark-auth
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
RUN mkdir -p /var/lib/lark-auth && chown node:node /var/lib/lark-auth
USER node
EXPOSE 50051 8080
# /healthz answers while the process serves; readiness (database, migrations) is /readyz or gRPC health.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.LARK_AUTH_HTTP_PORT || 8080}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
