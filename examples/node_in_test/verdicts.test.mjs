// A Node test suite asserting against faultproof during its own tests, with the built-in
// test runner and fetch only: plan a documented failure, run the client under test, then ask
// the control plane what it saw (journal count) and what faultproof judges of it (verdicts).
//
//   FAULTPROOF_MOCK_URL=http://127.0.0.1:8080 node --test examples/node_in_test/
//
// The client here is examples/node_fetch_client.mjs, run through the subprocess protocol;
// in a real suite it is the code under test, called directly.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const MOCK = process.env.FAULTPROOF_MOCK_URL ?? "http://127.0.0.1:8080";
const CLIENT = fileURLToPath(new URL("../node_fetch_client.mjs", import.meta.url));
const GET_PRODUCT = {
  name: "get_product",
  method: "GET",
  path: "/api/v1/products/42",
  query: {},
  headers: { "X-API-Key": "alana_test_key" },
  json: null,
};

async function control(path, init = {}) {
  const answer = await fetch(`${MOCK}/__faultproof${path}`, {
    ...init,
    headers: { "Content-Type": "application/json", ...(init.headers ?? {}) },
  });
  assert.ok(answer.ok, `${path}: ${answer.status} ${await answer.clone().text()}`);
  return answer.status === 204 ? null : answer.json();
}

async function session(plan) {
  const created = await control("/sessions", { method: "POST" });
  await control(`/sessions/${created.id}/plan`, { method: "PUT", body: JSON.stringify(plan) });
  return created;
}

async function runClient(baseUrl, operation) {
  const { stdout } = await promisify(execFile)(process.execPath, [CLIENT], {
    env: {
      ...process.env,
      FAULTPROOF_BASE_URL: baseUrl,
      FAULTPROOF_PROVIDER: "alana",
      FAULTPROOF_OPERATION: JSON.stringify(operation),
      FAULTPROOF_TIMEOUT_S: "10",
    },
  });
  return JSON.parse(stdout.trim().split("\n").pop());
}

test("the client waits out a documented 429 and the judge passes it", async () => {
  const { id, base_urls } = await session({
    steps: [{ scenario: "alana.RATE_001", params: { retry_after: 1 } }],
    after: "ok",
  });
  const outcome = await runClient(base_urls.alana, GET_PRODUCT);
  assert.equal(outcome.ok, true);

  const limited = await control(`/sessions/${id}/journal/count?status=429`);
  assert.equal(limited.count, 1);
  const all = await control(`/sessions/${id}/journal/count?method=GET&path=/api/v1/products/*`);
  assert.equal(all.count, 2);

  const report = await control(`/sessions/${id}/verdicts`, { method: "POST" });
  assert.deepEqual(
    report.results.map((r) => [r.scenario, r.verdict]),
    [["alana.RATE_001", "pass"]],
  );
  await control(`/sessions/${id}`, { method: "DELETE" });
});

test("the judge fails a loop that repeats a POST after a 500", async () => {
  const { id, base_urls } = await session({
    steps: [{ scenario: "alana.SERVER_001_on_create" }],
    after: "ok",
  });
  const create = {
    ...GET_PRODUCT,
    name: "create_product",
    method: "POST",
    path: "/api/v1/products",
    json: { id: "sku-1", name: "Trail shoe", price: 89.0 },
  };
  await runClient(base_urls.alana, create);

  const posts = await control(`/sessions/${id}/journal/count?method=POST`);
  assert.equal(posts.count, 2); // the 500, then the repeat without an Idempotency-Key
  const report = await control(`/sessions/${id}/verdicts`, { method: "POST" });
  const [result] = report.results;
  assert.equal(result.scenario, "alana.SERVER_001_on_create");
  const safe = result.checks.find((c) => c.id === "safe_retries");
  assert.equal(safe.verdict, "fail", JSON.stringify(result.checks));
  await control(`/sessions/${id}`, { method: "DELETE" });
});
