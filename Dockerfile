# syntax=docker/dockerfile:1
# One image for every FitSync process; the command chooses the service:
#   node --import tsx/esm subgraphs/<name>/src/index.ts    (users, training, schedule, progress, notifications)
#   node --import tsx/esm gateway/src/index.ts             (the default)
# docker-compose.yml builds it once and runs it six times. tsx/esm is tsx's ESM loader
# alone: the sources are ES modules, and tsx's CommonJS hook would sit in every require()
# a dependency makes while serving (Apollo's query hash asks for `crypto` per operation).
FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, from the manifests only, so that a source change does not
# reinstall them. Every workspace's package.json must be listed here (npm ci links
# the workspaces); tests/docker-compose.test.ts checks that none is missing.
COPY package.json package-lock.json ./
COPY packages/composition/package.json packages/composition/
COPY packages/demo-data/package.json packages/demo-data/
COPY packages/events/package.json packages/events/
COPY packages/live/package.json packages/live/
COPY packages/service-kit/package.json packages/service-kit/
COPY subgraphs/users/package.json subgraphs/users/
COPY subgraphs/training/package.json subgraphs/training/
COPY subgraphs/schedule/package.json subgraphs/schedule/
COPY subgraphs/progress/package.json subgraphs/progress/
COPY subgraphs/notifications/package.json subgraphs/notifications/
COPY gateway/package.json gateway/
# tsx (a devDependency) runs the TypeScript sources, so dev dependencies stay in.
RUN npm ci --include=dev --no-audit --no-fund && npm cache clean --force

COPY . .
# GraphiQL's bundle (npm ci ran before the sources were here, so its postinstall had nothing to build).
RUN npm run graphiql:build

# The code stays owned by root (read-only for the service); only the embedded-database
# folder is writable, for runs without DATABASE_URL.
RUN mkdir -p /app/.data && chown node:node /app/.data

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DATA_DIR=/app/.data \
    NPM_CONFIG_UPDATE_NOTIFIER=false
USER node

EXPOSE 4000 3001 3002 8003 8004 3005
CMD ["node", "--import", "tsx/esm", "gateway/src/index.ts"]
