/**
 * Every answer the tests receive is checked against the served OpenAPI document (GET /openapi.json):
 * its status must be one the operation declares, and its JSON body must validate against that answer's
 * schema, with a real JSON Schema (2020-12) validator. `api()` and `deliver()` call it on every answer,
 * so the whole suite's traffic (hostile inputs, races, refusals) checks the document, not a hand-picked
 * few cases. A request the document does not describe (an unknown route, the simulator's pages) is left
 * alone: the routes test checks the document lists exactly the routes served.
 */

import { exports } from "cloudflare:workers";
import { Validator } from "@cfworker/json-schema";
import { expect } from "vitest";

type Schema = Record<string, unknown>;

interface Described {
  path: string;
  pattern: RegExp;
  operations: Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>;
}

let document: Promise<{ paths: Described[]; components: Record<string, Schema> }> | null = null;

function load() {
  document ??= (async () => {
    const res = await exports.default.fetch("http://boxoffice.test/openapi.json");
    const doc = (await res.json()) as {
      paths: Record<string, Described["operations"]>;
      components: { schemas: Record<string, Schema> };
    };
    const paths = Object.entries(doc.paths).map(([path, operations]) => ({
      path,
      pattern: new RegExp(`^${path.replace(/\{\w+\}/g, "[^/]+").replace(/\./g, "\\.")}$`),
      operations,
    }));
    return { paths, components: doc.components.schemas };
  })();
  return document;
}

/** The schema with `#/components/schemas/…` references replaced by what they name. */
function resolved(schema: unknown, components: Record<string, Schema>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => resolved(s, components));
  if (schema === null || typeof schema !== "object") return schema;
  const ref = (schema as { $ref?: string }).$ref;
  if (ref?.startsWith("#/components/schemas/")) return components[ref.slice("#/components/schemas/".length)];
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolved(v, components)]));
}

const validators = new Map<Schema, Validator>();

/** `METHOD /path/{template} status` of every answer checked in this test file. */
export const seenAnswers = new Set<string>();

/** Every `METHOD /path/{template} status` the document declares. */
export async function documentedAnswers(): Promise<string[]> {
  const { paths } = await load();
  return paths.flatMap((p) =>
    Object.entries(p.operations).flatMap(([method, op]) =>
      Object.keys(op.responses).map((status) => `${method.toUpperCase()} ${p.path} ${status}`),
    ),
  );
}

/** Fails the test if the answer is not one the document declares for the request. */
export async function expectDocumented(method: string, url: string, status: number, type: string, body: unknown) {
  const { paths, components } = await load();
  const path = new URL(url).pathname;
  const template = paths.find((p) => p.pattern.test(path));
  const described = template?.operations[method.toLowerCase()];
  if (!template || !described) return;
  seenAnswers.add(`${method.toUpperCase()} ${template.path} ${status}`);
  const answer = described.responses[String(status)];
  expect(answer, `${method} ${path} answered ${status}, which its operation does not declare`).toBeDefined();
  const mediaType = type.split(";")[0]?.trim() ?? "";
  const schema = answer?.content?.[mediaType]?.schema;
  if (status !== 204 && status !== 304) {
    expect(
      schema,
      `${method} ${path} ${status} answered ${mediaType}, which the document does not declare`,
    ).toBeDefined();
  }
  if (!schema || !mediaType.endsWith("json")) return;
  let validator = validators.get(schema);
  if (!validator) {
    validator = new Validator(resolved(schema, components) as Schema, "2020-12", false);
    validators.set(schema, validator);
  }
  const result = validator.validate(body);
  expect(
    result.errors.map((e) => `${e.instanceLocation}: ${e.error}`),
    `${method} ${path} ${status}: the body does not match the document`,
  ).toEqual([]);
}
