import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters, type KeyLike } from 'jose';
import { KeysUnavailableError } from './auth.errors';

/** Options of {@link JwksKeys}; the bounds are documented in docs/operations.md (User tokens). */
export interface JwksKeysOptions {
  /** Longest wait for one fetch of the document, body included. */
  timeoutMs: number;
  /** Keys older than this are fetched again (the old ones still serve if that fails). Default 10 min. */
  maxAgeMs?: number;
  /** A token naming an unknown key refetches at most this often, so random `kid`s cannot flood the provider. Default 30 s. */
  cooldownMs?: number;
  now?: () => number;
  fetch?: typeof globalThis.fetch;
}

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<KeyLike>;

/**
 * The signing keys of a JSON Web Key Set URL, for `jwtVerify`. Unlike jose's
 * `createRemoteJWKSet`, whose timeout covers only the response headers, every fetch is
 * bounded as a whole (an `AbortSignal` that also cuts a stalled body), so a request
 * waits at most `timeoutMs` for keys. One fetch at a time per instance; keys past their
 * max age keep serving while a refresh runs in the background (no request waits for it);
 * an unknown `kid` joins a fetch under way or starts one at most once per cooldown.
 */
export class JwksKeys {
  private keys?: { resolve: KeyResolver; fetchedAt: number };
  private pending?: Promise<void>;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly fetch: typeof globalThis.fetch;

  constructor(
    private readonly url: URL,
    private readonly options: JwksKeysOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** The key a token's header names; throws jose's errors for a token no key matches, KeysUnavailableError when keys cannot be had. */
  readonly resolve: KeyResolver = async (header, token) => {
    const keys = await this.current();
    try {
      return await keys.resolve(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // A key rotated in since the last fetch? Join a fetch under way, or start one unless one started within the cooldown.
      if (!this.pending && this.now() - this.lastAttempt < this.cooldownMs) throw error;
      await this.refresh();
      return this.keys!.resolve(header, token);
    }
  };

  private async current(): Promise<{ resolve: KeyResolver; fetchedAt: number }> {
    const keys = this.keys;
    if (!keys) {
      await this.refresh();
      return this.keys!;
    }
    const stale = this.now() - keys.fetchedAt >= (this.options.maxAgeMs ?? 600_000);
    // Stale keys keep serving while a refresh runs in the background (its failure only means the next one is owed).
    if (stale && this.now() - this.lastAttempt >= this.cooldownMs) void this.refresh().catch(() => undefined);
    return keys;
  }

  private get cooldownMs(): number {
    return this.options.cooldownMs ?? 30_000;
  }

  private refresh(): Promise<void> {
    if (!this.pending) this.lastAttempt = this.now();
    this.pending ??= this.load().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async load(): Promise<void> {
    let document: unknown;
    try {
      const response = await this.fetch(this.url, { signal: AbortSignal.timeout(this.options.timeoutMs), redirect: 'error' });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      document = await response.json();
    } catch (error) {
      const reason = (error as Error)?.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (error as Error).message;
      throw new KeysUnavailableError(reason, { cause: error });
    }
    try {
      this.keys = { resolve: createLocalJWKSet(document as JSONWebKeySet), fetchedAt: this.now() };
    } catch (error) {
      throw new KeysUnavailableError('the document is not a JSON Web Key Set', { cause: error });
    }
  }
}
