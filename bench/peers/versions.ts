import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Installed versions of the compared packages, recorded with every result. */
export function peerVersions(): Record<string, string> {
  const names = ['bentocache', 'cache-manager', 'keyv', '@keyv/redis', '@nestjs/cache-manager', '@nestjs/core'];
  names.push('@nestjs/platform-express', 'express', '@nestjs/platform-fastify', 'fastify', 'autocannon', 'ioredis');
  return Object.fromEntries(
    names.map((name) => {
      try {
        const manifest = JSON.parse(readFileSync(join(__dirname, '../../node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        };
        return [name, manifest.version];
      } catch {
        return [name, 'not installed'];
      }
    }),
  );
}
