// SPDX-License-Identifier: Apache-2.0
//
// SMART Backend Services for the sandbox (enabled with --auth-config FILE): a token endpoint that takes
// a private_key_jwt client assertion (RS384 or ES384), checks it against the client's registered JWKS with
// node:crypto only, and issues opaque bearer tokens; the FHIR routes then require one.
//
// FILE: {"clients": [{"client_id": "lobby-1", "jwks": {"keys": [<public JWK>...]}, "scope": "system/*.rs"}],
//        "token_lifetime_s": 300}
// A client's "scope" (optional) lists what it may be granted; absent = whatever it asks for.

import crypto from 'node:crypto';
import fs from 'node:fs';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_AHEAD_S = 300; // SMART: exp no more than five minutes in the future
const SKEW_S = 30;
const JWK_MEMBERS = ['kty', 'n', 'e', 'crv', 'x', 'y'];

class OAuthError extends Error {
  constructor(status, error, description) {
    super(description);
    this.status = status;
    this.error = error;
  }
}

function b64json(part) {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new OAuthError(400, 'invalid_request', 'client_assertion is not a JWT');
  }
}

export class TokenService {
  #clients = new Map();
  #tokens = new Map(); // token -> {clientId, scope, exp}
  #jtis = new Map(); // jti -> exp (replay protection)
  #now;
  stats = { issued: 0, refused_assertions: 0, refused_requests: 0 };

  constructor(config, { now = () => Date.now() / 1000 } = {}) {
    this.lifetime = Number(config.token_lifetime_s ?? 300);
    this.#now = now;
    for (const client of config.clients ?? []) {
      if (!client.client_id || !Array.isArray(client.jwks?.keys)) {
        throw new Error('auth config: every client needs client_id and jwks.keys');
      }
      this.#clients.set(client.client_id, client);
    }
  }

  static fromFile(path) {
    return new TokenService(JSON.parse(fs.readFileSync(path, 'utf8')));
  }

  smartConfiguration(tokenUrl) {
    return {
      token_endpoint: tokenUrl,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      grant_types_supported: ['client_credentials'],
      scopes_supported: ['system/*.rs', 'system/*.cruds'],
      capabilities: ['client-confidential-asymmetric'],
    };
  }

  /** POST token endpoint: form fields in, {status, body} out (RFC 6749 §5). */
  token(form, tokenUrl) {
    try {
      return { status: 200, body: this.#issue(form, tokenUrl) };
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      this.stats.refused_assertions++;
      return { status: err.status, body: { error: err.error, error_description: err.message } };
    }
  }

  #issue(form, tokenUrl) {
    if (form.get('grant_type') !== 'client_credentials') {
      throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    }
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      throw new OAuthError(400, 'invalid_request', 'client_assertion_type must be jwt-bearer');
    }
    const jwt = form.get('client_assertion') ?? '';
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new OAuthError(400, 'invalid_request', 'client_assertion is not a JWT');
    const header = b64json(parts[0]);
    const claims = b64json(parts[1]);
    const now = this.#now();

    const client = this.#clients.get(claims.iss);
    if (!client || claims.sub !== claims.iss) throw new OAuthError(401, 'invalid_client', 'unknown client');
    if (header.alg !== 'RS384' && header.alg !== 'ES384') {
      throw new OAuthError(401, 'invalid_client', 'alg must be RS384 or ES384');
    }
    const jwk = client.jwks.keys.find((k) => k.kid === header.kid);
    if (!header.kid || !jwk) throw new OAuthError(401, 'invalid_client', 'no registered key with this kid');
    if (jwk.alg && jwk.alg !== header.alg) throw new OAuthError(401, 'invalid_client', 'alg does not match the key');
    const key = crypto.createPublicKey({
      key: Object.fromEntries(JWK_MEMBERS.filter((m) => m in jwk).map((m) => [m, jwk[m]])),
      format: 'jwk',
    });
    const rsa = header.alg === 'RS384';
    if (rsa ? key.asymmetricKeyType !== 'rsa' : key.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
      throw new OAuthError(401, 'invalid_client', 'key type does not match alg');
    }
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii');
    const signature = Buffer.from(parts[2], 'base64url');
    const ok = crypto.verify('sha384', signed, rsa ? key : { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!ok) throw new OAuthError(401, 'invalid_client', 'signature does not verify');

    const audiences = [].concat(claims.aud ?? []);
    if (!audiences.includes(tokenUrl)) throw new OAuthError(401, 'invalid_client', 'aud is not this token endpoint');
    if (typeof claims.exp !== 'number' || claims.exp <= now - SKEW_S) {
      throw new OAuthError(401, 'invalid_client', 'assertion expired');
    }
    if (claims.exp > now + MAX_ASSERTION_AHEAD_S + SKEW_S) {
      throw new OAuthError(401, 'invalid_client', 'assertion exp is more than five minutes ahead');
    }
    if (!claims.jti) throw new OAuthError(401, 'invalid_client', 'jti missing');
    for (const [jti, exp] of this.#jtis) if (exp < now - SKEW_S) this.#jtis.delete(jti);
    if (this.#jtis.has(claims.jti)) throw new OAuthError(401, 'invalid_client', 'jti already used');
    this.#jtis.set(claims.jti, claims.exp);

    const asked = String(form.get('scope') ?? '').split(/\s+/).filter(Boolean);
    const allowed = client.scope ? new Set(String(client.scope).split(/\s+/)) : null;
    const granted = allowed ? asked.filter((s) => allowed.has(s)) : asked;
    if (asked.length && !granted.length) throw new OAuthError(400, 'invalid_scope', 'no requested scope allowed');

    const value = crypto.randomBytes(32).toString('base64url');
    this.#tokens.set(value, { clientId: client.client_id, scope: granted.join(' '), exp: now + this.lifetime });
    this.stats.issued++;
    return { access_token: value, token_type: 'bearer', expires_in: this.lifetime, scope: granted.join(' ') };
  }

  /** null when the request carries a valid token; else what to answer (401). */
  check(authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(String(authorization ?? ''));
    const token = match ? this.#tokens.get(match[1]) : undefined;
    if (token && token.exp > this.#now()) return null;
    if (token) this.#tokens.delete(match[1]);
    this.stats.refused_requests++;
    return {
      status: 401,
      headers: { 'WWW-Authenticate': `Bearer error="${match ? 'invalid_token' : 'invalid_request'}"` },
      body: {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'login', diagnostics: match ? 'Invalid or expired token' : 'Bearer token required' }],
      },
    };
  }

  /** Forget every issued token (tests: "the server expired our token"). */
  revoke() {
    const n = this.#tokens.size;
    this.#tokens.clear();
    return n;
  }

  /** Tests: forget tokens, used jtis and counters (POST /$reset). */
  reset() {
    this.#tokens.clear();
    this.#jtis.clear();
    this.stats = { issued: 0, refused_assertions: 0, refused_requests: 0 };
  }

  summary() {
    return { ...this.stats, active: this.#tokens.size, clients: [...this.#clients.keys()] };
  }
}
