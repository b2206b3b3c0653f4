import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, type FieldError, invalidInput } from "./errors";

function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(fieldErrors(result.error), `The ${where} is not valid`);
  return result.data;
}

/** The request body as JSON, validated. An empty body reads as `{}` so body-less POSTs validate too. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError("INVALID_JSON", "The request body is not valid JSON");
    }
  }
  return parseWith(schema, value, "request body");
}

export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  return parseWith(schema, c.req.query(), "query string");
}

/** A path parameter, validated; a malformed id is `400 INVALID_INPUT`, a well-formed unknown one is a 404 later. */
export function readParam<S extends z.ZodType>(c: Context, name: string, schema: S): z.infer<S> {
  const result = schema.safeParse(c.req.param(name));
  if (!result.success) {
    throw invalidInput(
      result.error.issues.map((i) => ({ path: name, message: i.message })),
      `The path parameter '${name}' is not valid`,
    );
  }
  return result.data;
}
