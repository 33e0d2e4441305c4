// Real listeners on 127.0.0.1 for the tests that need connections: shutdown and chunked uploads.
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type Koa from "koa";

export async function listenLocal(app: Koa): Promise<{ server: Server; port: number }> {
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface GetOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Written in separate chunks, so the request has no content-length. */
  chunks?: string[];
  agent?: import("node:http").Agent;
  /** The address to connect to; 127.0.0.1 unless set. */
  host?: string;
}

/** One HTTP request to 127.0.0.1:port (or options.host); rejects on connection errors (refused, reset). */
export function call(port: number, path: string, options: GetOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.host ?? "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: options.agent,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}
