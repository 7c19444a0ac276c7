/**
 * The providers' documents the browser engine reads: discovery per issuer (fetched again
 * after a failure) and the signing keys per `jwks_uri`, cached for the page's life; and the
 * JWKS document as `GET oidc/jwks` answers it.
 */
import type { IJwksReply } from '../../api';
import { OidcError } from '../../errors';
import type { IBrowserEnvironment } from './config';
import { discover, IProviderMetadata } from './discovery';
import { remoteKeys } from './idtoken';

/** Discovery and keys, fetched once each. */
export class ProviderCache {
  constructor(fetch: typeof globalThis.fetch) {
    this._fetch = fetch;
  }

  metadata(env: IBrowserEnvironment): Promise<IProviderMetadata> {
    let found = this._discovery.get(env.issuer);
    if (!found) {
      found = discover(env.issuer, this._fetch);
      this._discovery.set(env.issuer, found);
      found.catch(() => this._discovery.delete(env.issuer)); // retry on the next call
    }
    return found;
  }

  keys(metadata: IProviderMetadata): ReturnType<typeof remoteKeys> {
    let keys = this._jwks.get(metadata.jwks_uri);
    if (!keys) {
      keys = remoteKeys(metadata, this._fetch);
      this._jwks.set(metadata.jwks_uri, keys);
    }
    return keys;
  }

  /** `GET oidc/jwks` of `env`: its discovery document and keys, fetched in the page. */
  async jwks(env: IBrowserEnvironment): Promise<IJwksReply> {
    const metadata = await this.metadata(env);
    const response = await this._fetch(metadata.jwks_uri, { credentials: 'omit' }).catch(error => {
      throw new OidcError(
        'provider_unavailable',
        "The provider's JWKS did not answer (network or CORS).",
        { cause: error }
      );
    });
    const jwks = await response.json().catch(() => ({ keys: [] }));
    return {
      issuer: env.issuer,
      discovery: metadata.raw,
      jwks,
      environment: env.name,
      client_id: env.client_id,
      discovery_mode: 'auto'
    };
  }

  private _fetch: typeof globalThis.fetch;
  private _discovery = new Map<string, Promise<IProviderMetadata>>();
  private _jwks = new Map<string, ReturnType<typeof remoteKeys>>();
}
