import { createHash } from 'node:crypto';

/** A Lua script and its SHA-1, for EVALSHA. */
export interface LuaScript {
  lua: string;
  sha: string;
}

function lua(source: string): LuaScript {
  return { lua: source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Lua scripts of the Redis store. Each touches keys of one hash slot only (an entry, its
 * lock and its fence share the `{id}` hash tag; a tag version is a key of its own), so
 * they run unchanged on Redis Cluster.
 *
 * Versions (fences and tag versions) are microseconds of the Redis server's clock, made
 * strictly greater than the key's current value: a version created after another is
 * always greater, even when the key holding the older one expired in between. They stay
 * below 2^53, so Lua's doubles hold them exactly; they are formatted with `%.0f` because
 * `tostring` would print large numbers in exponent notation.
 */
const NEXT_VERSION = `
local function next_version(key, ttl)
  local t = redis.call('time')
  local v = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local current = tonumber(redis.call('get', key) or '0')
  if current >= v then v = current + 1 end
  local s = string.format('%.0f', v)
  local keep = redis.call('pttl', key)
  if keep < tonumber(ttl) then keep = tonumber(ttl) end
  redis.call('set', key, s, 'px', keep)
  return s
end`;

/** KEYS: fence (routes to the key's node in a Cluster). Returns the node's clock in microseconds, as fences count. */
export const FENCE_CLOCK = lua(`
local t = redis.call('time')
return string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]))`);

/** KEYS: lock, fence. ARGV: token, lock ttl, fence ttl. Returns {1, fence} or {0, remaining lock ms}. */
export const TRY_LOCK = lua(`${NEXT_VERSION}
if redis.call('set', KEYS[1], ARGV[1], 'nx', 'px', ARGV[2]) then
  return {1, next_version(KEYS[2], ARGV[3])}
end
return {0, redis.call('pttl', KEYS[1])}`);

/** KEYS: lock. ARGV: token, ttl. Extends the lock if the token still owns it. */
export const RENEW_LOCK = lua(`
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0`);

/** KEYS: lock. ARGV: token. Deletes the lock only if the token still owns it. */
export const UNLOCK = lua(`
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`);

/**
 * KEYS: entry, fence. ARGV: fence, payload ("<fence>|<json>"), pttl, expected stored fence or ''.
 * Writes only if ARGV[1] is still the key's latest fence (and, for a fail-safe extension,
 * the stored entry is the one read). 1 = written.
 */
export const FENCED_WRITE = lua(`
if redis.call('get', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[4] ~= '' then
  local current = redis.call('get', KEYS[1])
  if not current or string.match(current, '^(%d+)|') ~= ARGV[4] then return 0 end
end
redis.call('set', KEYS[1], ARGV[2], 'px', ARGV[3])
return 1`);

/**
 * KEYS: entry, fence, lock. ARGV: fence ttl. Deletes the entry, issues a new fence and
 * breaks the lock: a computation that started before can no longer write, so nobody
 * should wait for it.
 */
export const INVALIDATE = lua(`${NEXT_VERSION}
redis.call('del', KEYS[1], KEYS[3])
return next_version(KEYS[2], ARGV[1])`);

/** KEYS: tag. ARGV: ttl. A new, greater version. */
export const BUMP_TAG = lua(`${NEXT_VERSION}
return next_version(KEYS[1], ARGV[1])`);

/** KEYS: tag. ARGV: ttl. Extends an existing tag's expiry to at least ttl. */
export const KEEP_TAG = lua(`
local keep = redis.call('pttl', KEYS[1])
if keep >= 0 and keep < tonumber(ARGV[1]) then redis.call('pexpire', KEYS[1], ARGV[1]) end
return keep`);

/** KEYS: tag. ARGV: ttl, version to create an absent tag with ('' = now). The (possibly new) version, kept >= ttl. */
export const STAMP_TAG = lua(`
local current = redis.call('get', KEYS[1])
if not current then
  if ARGV[2] ~= '' then
    current = ARGV[2]
  else
    local t = redis.call('time')
    current = string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]))
  end
  redis.call('set', KEYS[1], current, 'px', ARGV[1])
elseif redis.call('pttl', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('pexpire', KEYS[1], ARGV[1])
end
return current`);
