/**
 * The admin endpoint every service exposes: /healthz (process alive), /readyz (connected and
 * assigned; 503 with the reason otherwise) and /metrics (Prometheus text). Bound to a configured
 * address; port 0 picks a free one (tests).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  reason: string;
}

/**
 * An extra endpoint: gets the method, path, query string, headers and body; answers status, content
 * type, body and optional headers (Set-Cookie, Location, WWW-Authenticate, caching). A route key
 * ending in `/*` serves every path under it (`/incidents/*` serves `/incidents/abc`); exact keys win.
 */
export type AdminRoute = (request: {
  method: string;
  path: string;
  /** The query string without its '?' ('' when none). */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}) => Promise<{ status: number; type: string; body: string | Buffer; headers?: Record<string, string> }>;

/** The route serving `path`: an exact key, else the longest `<prefix>/*` key that `path` is under. */
export function findRoute(routes: Record<string, AdminRoute>, path: string): AdminRoute | undefined {
  const exact = routes[path];
  if (exact) return exact;
  let best: { length: number; route: AdminRoute } | undefined;
  for (const [key, route] of Object.entries(routes)) {
    if (!key.endsWith('/*')) continue;
    const prefix = key.slice(0, -1);
    if (path.startsWith(prefix) && (!best || prefix.length > best.length))
      best = { length: prefix.length, route };
  }
  return best?.route;
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdminServer(
  address: string,
  registry: Registry,
  readiness: () => Readiness,
  routes: Record<string, AdminRoute> = {},
): Promise<AdminServer> {
  const [host = '127.0.0.1', portText = '0'] = address.split(/:(?=[0-9]+$)/);
  const server: Server = createServer((request, response) => {
    const [path = '/', query = ''] = (request.url ?? '/').split(/\?(.*)/s);
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const state = readiness();
      response.writeHead(state.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(`${state.reason}\n`);
    } else if (path === '/metrics') {
      registry
        .metrics()
        .then((text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text))
        .catch((error: unknown) => response.writeHead(500).end(String(error)));
    } else if (findRoute(routes, path)) {
      const route = findRoute(routes, path) as AdminRoute;
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > 1024 * 1024) request.destroy();
        else chunks.push(chunk);
      });
      request.on('end', () => {
        route({
          method: request.method ?? 'GET',
          path,
          query,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        })
          .then((answer) =>
            response
              .writeHead(answer.status, { ...answer.headers, 'content-type': answer.type })
              .end(answer.body),
          )
          .catch((error: unknown) =>
            response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
          );
      });
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(portText), host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
