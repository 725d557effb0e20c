// SPDX-License-Identifier: Apache-2.0
//
// Fault injection for tests: real HTTP failures from a real server. POST /$faults with a rule (or
// {"rules": [...]}) queues it; DELETE /$faults clears; GET /$faults lists what is left and what was hit.
//
// rule = {
//   "mode": "status" | "drop" | "hangup" | "delay",
//   "status": 503, "retry_after": "7",   // mode "status": answer this (an OperationOutcome), do nothing
//   "delay_ms": 3000,                    // mode "delay": process, then answer this late
//   "count": 1,                          // how many matching requests it hits
//   "skip": 0,                           // let this many matching requests through first
//   "transactions_only": true            // match only transaction/batch POSTs to the base (else every FHIR request)
// }
// "drop": the connection is closed before the request is processed (the server "was down").
// "hangup": the request IS processed, then the connection is closed without an answer (the ack is lost).

export class Faults {
  rules = [];
  hits = 0;

  add(body) {
    const list = Array.isArray(body?.rules) ? body.rules : [body];
    for (const rule of list) {
      if (!['status', 'drop', 'hangup', 'delay'].includes(rule?.mode)) {
        throw new Error('fault mode must be status, drop, hangup or delay');
      }
      this.rules.push({
        mode: rule.mode,
        status: Number(rule.status ?? 503),
        retry_after: rule.retry_after === undefined ? undefined : String(rule.retry_after),
        delay_ms: Number(rule.delay_ms ?? 0),
        count: Number(rule.count ?? 1),
        skip: Number(rule.skip ?? 0),
        transactions_only: rule.transactions_only !== false,
      });
    }
  }

  clear() {
    this.rules = [];
    this.hits = 0;
  }

  /** The rule hitting this request (consumed), or null. */
  take(isTransaction) {
    for (const rule of this.rules) {
      if (rule.transactions_only && !isTransaction) continue;
      if (rule.skip > 0) {
        rule.skip--;
        return null;
      }
      rule.count--;
      if (rule.count <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
      this.hits++;
      return rule;
    }
    return null;
  }

  summary() {
    return { rules: this.rules, hits: this.hits };
  }
}

export function faultOutcome(status) {
  const code = status === 429 ? 'throttled' : status >= 500 ? 'transient' : 'processing';
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics: `Injected fault: HTTP ${status}` }],
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
