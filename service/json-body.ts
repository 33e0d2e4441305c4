// A small, strict JSON body reader for the admin API: JSON content type only, bounded size, and every
// refusal is a 400 whose message says why. No body-parser dependency for one route.
import type { Context } from "koa";

export const DEFAULT_BODY_LIMIT = 1024;

async function readBounded(ctx: Context, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) ctx.throw(400, `body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads the request body as JSON; throws a 400 HttpError naming the problem. */
export async function readJsonBody(ctx: Context, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  if (!ctx.is("application/json")) {
    ctx.throw(400, `content-type must be application/json, got ${JSON.stringify(ctx.get("content-type"))}`);
  }
  // Refuse early when the client announces a body that is too large, before reading any of it.
  if (ctx.request.length !== undefined && ctx.request.length > limit) {
    ctx.throw(400, `body is larger than ${limit} bytes (content-length ${ctx.request.length})`);
  }
  const text = await readBounded(ctx, limit);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    ctx.throw(400, `body is not valid JSON: ${(err as Error).message}`);
  }
}
