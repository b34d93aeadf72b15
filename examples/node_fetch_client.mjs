#!/usr/bin/env node
// A Node client under test: built-in fetch with the retry loop most projects write by hand.
//
//   faultproof run --client-cmd "node examples/node_fetch_client.mjs"
//
// The subprocess protocol (DESIGN.md, "The client adapter protocol"): FAULTPROOF_BASE_URL,
// FAULTPROOF_PROVIDER, FAULTPROOF_OPERATION and FAULTPROOF_TIMEOUT_S in, one outcome JSON object
// as the last line of standard output.
//
// The loop, as commonly written: up to MAX_RETRIES retries on 429 and 5xx and on any thrown
// error (network failure, timeout, a body cut short), waiting Retry-After when it is a number of
// seconds and 1 s, 2 s, 4 s otherwise; every method alike; each attempt bounded by
// AbortSignal.timeout(FAULTPROOF_TIMEOUT_S), body included. Nothing more: no cap on a long
// Retry-After, no HTTP-date parsing, no overall deadline, no token refresh, no NDJSON error-line
// detection. That is the point: the report shows what such a loop does and does not survive.

const MAX_RETRIES = 3;
const BASE_DELAY_MS = 1000;
const NDJSON = "application/x-ndjson";

// Where each provider keeps code, message and request id: JSON Pointers, first string wins
// (DESIGN.md, "Normal form of an error").
const NORMAL_FORM = {
  alana: {
    code: ["/error/code", "/code"],
    message: ["/error/message", "/error"],
    request_id: ["/error/request_id"],
  },
  aironclaw: { code: [], message: ["/error"], request_id: [] },
  ainative: { code: [], message: ["/detail", "/detail/0/msg"], request_id: [] },
  alloy: { code: ["/error/data/code", "/error/code"], message: ["/error/message"], request_id: [] },
  airbyte: { code: ["/title", "/error"], message: ["/detail", "/error_description"], request_id: [] },
};

function resolve(doc, pointer) {
  let node = doc;
  for (const raw of pointer.split("/").slice(1)) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(node)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      node = node[Number(token)];
    } else if (node !== null && typeof node === "object") {
      if (!Object.hasOwn(node, token)) return undefined;
      node = node[token];
    } else {
      return undefined;
    }
  }
  return node;
}

function firstString(doc, pointers) {
  for (const pointer of pointers) {
    const value = resolve(doc, pointer);
    if (typeof value === "string" && value) return value;
  }
  return null;
}

function parseBody(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorOutcome(provider, status, text) {
  const form = NORMAL_FORM[provider] ?? { code: [], message: [], request_id: [] };
  const doc = parseBody(text);
  return {
    ok: false,
    status,
    code: firstString(doc, form.code),
    message: firstString(doc, form.message),
    request_id: firstString(doc, form.request_id),
  };
}

function wantsNdjson(headers) {
  return Object.entries(headers).some(
    ([k, v]) => ["accept", "content-type"].includes(k.toLowerCase()) && String(v).includes(NDJSON),
  );
}

function failure(err) {
  const name = err?.name ?? "";
  const cause = err?.cause;
  if (name === "TimeoutError" || name === "AbortError" || cause?.name === "TimeoutError") {
    return "timeout";
  }
  if (/terminated|invalid|parse/i.test(String(err?.message)) || cause?.code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH") {
    return "protocol";
  }
  return "connection";
}

const sleep = (ms) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

function retryDelayMs(response, retry) {
  const retryAfter = Number(response?.headers.get("retry-after"));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  return BASE_DELAY_MS * 2 ** (retry - 1);
}

async function fetchWithRetry(url, init, timeoutMs) {
  for (let attempt = 0; ; attempt++) {
    let response = null;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      const text = await response.text();
      const retryable = response.status === 429 || response.status >= 500;
      if (!retryable || attempt >= MAX_RETRIES) return { response, text };
    } catch (err) {
      if (attempt >= MAX_RETRIES) throw err;
      response = null;
    }
    await sleep(retryDelayMs(response, attempt + 1));
  }
}

async function run() {
  const baseUrl = process.env.FAULTPROOF_BASE_URL.replace(/\/+$/, "");
  const provider = process.env.FAULTPROOF_PROVIDER || baseUrl.split("/").pop();
  const op = JSON.parse(process.env.FAULTPROOF_OPERATION);
  const timeoutMs = Number(process.env.FAULTPROOF_TIMEOUT_S || "30") * 1000;

  const url = new URL(baseUrl + op.path);
  for (const [k, v] of Object.entries(op.query ?? {})) url.searchParams.set(k, String(v));
  const headers = { ...(op.headers ?? {}) };
  const init = { method: (op.method || "GET").toUpperCase(), headers };
  if (op.json !== null && op.json !== undefined) {
    init.body = JSON.stringify(op.json);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) {
      headers["Content-Type"] = "application/json";
    }
  }

  let result;
  try {
    result = await fetchWithRetry(url, init, timeoutMs);
  } catch (err) {
    return { ok: false, status: null, transport: failure(err) };
  }
  const { response, text } = result;
  if (!response.ok) return errorOutcome(provider, response.status, text);
  try {
    const ndjson = wantsNdjson(headers) || (response.headers.get("content-type") ?? "").includes(NDJSON);
    const data = ndjson
      ? text.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line))
      : text.trim() ? JSON.parse(text) : null;
    return { ok: true, status: response.status, data };
  } catch {
    return { ok: false, status: null, transport: "protocol" };
  }
}

const outcome = await run().catch((err) => ({ ok: false, status: null, transport: failure(err) }));
process.stdout.write(JSON.stringify(outcome) + "\n", () => process.exit(0));
