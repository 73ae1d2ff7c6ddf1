/**
 * The embedded engine served over ClickHouse's HTTP interface, so that the services (and analysts'
 * tools) in separate processes share one embedded data directory: each connects with
 * `CLICKHOUSE_URL` as to a ClickHouse server, and only the store process loads the engine's library.
 *
 * The subset served is what @clickhouse/client, curl and HTTP-based ClickHouse tools use:
 * `GET /ping`; a statement in the `query` URL parameter and/or the request body (for an INSERT the
 * parameter holds the statement and the body its data); `param_<name>` query parameters;
 * `default_format` (TabSeparated when absent, as a server); other URL parameters as settings of the
 * statement; `query_id`; gzip request and response bodies; the `X-ClickHouse-Summary` header; and
 * errors as `Code: N. DB::Exception: … (NAME)` with `X-ClickHouse-Exception-Code`. There are no
 * sessions (`session_id` is ignored: temporary tables and `SET` do not outlive a request) and one
 * database: a request naming another gets UNKNOWN_DATABASE (tables of others, such as `system`,
 * can still be named in SQL). A GET request runs read-only, as on a server.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { httpOnlySettings } from './query-settings.ts';

export interface StoreServerOptions {
  /** An embedded-engine client (see createClickhouse without a URL). */
  client: ClickHouseClient;
  database: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  user: string;
  /** Empty: only the user name is checked (loopback use). */
  password: string;
  /** Larger request bodies are refused (413) before the engine sees them. */
  maxBodyBytes: number;
  /** Engine version for error texts, e.g. "26.7.2.1". */
  version?: string;
  /** Called once per request, after the response is written (metrics, logs). */
  onRequest?(outcome: StoreRequestOutcome): void;
}

export interface StoreRequestOutcome {
  /** The statement's first keyword (SELECT, INSERT, …), never its text: statements carry data. */
  statement: string;
  status: number;
  /** ClickHouse error code and name for a failed statement. */
  errorCode?: number;
  errorName?: string;
  requestBytes: number;
  responseBytes: number;
  seconds: number;
}

export interface StoreServer {
  readonly url: string;
  close(): Promise<void>;
}

/** URL parameters that are part of the HTTP interface, not settings of the statement. */
const interfaceParams = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'session_id',
  'session_timeout',
  'session_check',
  'user',
  'password',
  'quota_key',
  'role',
  'compress',
  'decompress',
  'buffer_size',
  'readonly',
]);

/** Statements a GET request may run. */
const readingStatements = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXISTS', 'EXPLAIN']);

class StoreRequestError extends Error {
  readonly status: number;
  readonly code: number;
  readonly codeName: string;

  constructor(status: number, code: number, codeName: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.codeName = codeName;
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

export async function startStoreServer(options: StoreServerOptions): Promise<StoreServer> {
  const expectedUser = digest(options.user);
  const expectedPassword = digest(options.password);
  const version = options.version ?? 'embedded';

  const authorised = (request: IncomingMessage, params: URLSearchParams): boolean => {
    let user = header(request, 'x-clickhouse-user') ?? params.get('user') ?? undefined;
    let password = header(request, 'x-clickhouse-key') ?? params.get('password') ?? undefined;
    const basic = /^Basic\s+(.+)$/i.exec(header(request, 'authorization') ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      user = colon < 0 ? decoded : decoded.slice(0, colon);
      password = colon < 0 ? '' : decoded.slice(colon + 1);
    }
    // Compared as digests: equal lengths, constant time.
    const userOk = timingSafeEqual(digest(user ?? 'default'), expectedUser);
    const passwordOk = timingSafeEqual(digest(password ?? ''), expectedPassword);
    return userOk && passwordOk;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<StoreRequestOutcome> => {
    const url = new URL(request.url ?? '/', 'http://store');
    const params = url.searchParams;
    if (
      url.pathname === '/ping' ||
      (url.pathname === '/' && request.method === 'GET' && !params.has('query'))
    ) {
      response.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
      return { statement: 'PING', status: 200, requestBytes: 0, responseBytes: 4, seconds: 0 };
    }
    if (url.pathname !== '/')
      throw new StoreRequestError(
        404,
        0,
        'NOT_FOUND',
        `no handler for ${url.pathname}; this store serves / and /ping`,
      );
    if (request.method !== 'GET' && request.method !== 'POST')
      throw new StoreRequestError(
        405,
        0,
        'METHOD_NOT_ALLOWED',
        `method ${request.method} is not served; use GET or POST`,
      );
    if (!authorised(request, params))
      throw new StoreRequestError(
        401,
        516,
        'AUTHENTICATION_FAILED',
        'Authentication failed: password is incorrect, or there is no user with such name',
      );
    const database = params.get('database');
    if (database !== null && database !== options.database)
      throw new StoreRequestError(
        404,
        81,
        'UNKNOWN_DATABASE',
        `this store serves database ${options.database} only, not ${database}`,
      );

    const body = await readBody(request, options.maxBodyBytes);
    const fromUrl = params.get('query') ?? '';
    // The URL's statement with the body as its data, or the body as the statement.
    const query = fromUrl || body.toString('utf8');
    const values = fromUrl && body.length > 0 ? body : undefined;
    if (!query.trim()) throw new StoreRequestError(400, 62, 'SYNTAX_ERROR', 'Empty query');
    const statement = firstKeyword(query);

    const settings: Record<string, string | number> = {};
    const queryParams: Record<string, string | null> = {};
    const placeholders = placeholderTypes(query);
    for (const [name, value] of params) {
      if (name.startsWith('param_')) {
        const param = name.slice('param_'.length);
        queryParams[param] = bindableParam(param, value, placeholders.get(param) ?? '');
      } else if (!interfaceParams.has(name) && !httpOnlySettings.has(name)) settings[name] = value;
    }
    settings['default_format'] = params.get('default_format') ?? 'TabSeparated';
    // GET never writes, as on a server: only reading statements, and those with readonly 2 (which
    // still lets the request change its own settings).
    if (request.method === 'GET') {
      if (!readingStatements.has(statement))
        throw new StoreRequestError(
          403,
          164,
          'READONLY',
          `Cannot execute ${statement} in readonly mode (a GET request); use POST`,
        );
      settings['readonly'] = 2;
    }

    const started = process.hrtime.bigint();
    const result = await options.client.exec({
      query,
      ...(values ? { values: Readable.from([values]) } : {}),
      query_id: params.get('query_id') ?? undefined,
      query_params: queryParams,
      clickhouse_settings: settings as ClickHouseSettings,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of result.stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    let output = Buffer.concat(chunks);
    const headers: Record<string, string> = {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Query-Id': result.query_id,
      'X-ClickHouse-Server-Display-Name': 'floodgate-store',
    };
    if (result.summary) headers['X-ClickHouse-Summary'] = JSON.stringify(result.summary);
    if (
      params.get('enable_http_compression') === '1' &&
      /\bgzip\b/.test(header(request, 'accept-encoding') ?? '')
    ) {
      output = gzipSync(output);
      headers['Content-Encoding'] = 'gzip';
    }
    response.writeHead(200, headers).end(output);
    return {
      statement,
      status: 200,
      requestBytes: body.length,
      responseBytes: output.length,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    };
  };

  const server: Server = createServer((request, response) => {
    const started = process.hrtime.bigint();
    handle(request, response)
      .then((outcome) => options.onRequest?.(outcome))
      .catch((error: unknown) => {
        const failure = asStoreError(error);
        const text = `Code: ${failure.code}. DB::Exception: ${failure.message.trim()} (${failure.codeName}) (version ${version})\n`;
        if (!response.headersSent)
          response.writeHead(failure.status, {
            'Content-Type': 'text/plain; charset=UTF-8',
            'X-ClickHouse-Exception-Code': String(failure.code),
          });
        response.end(text);
        options.onRequest?.({
          statement: 'ERROR',
          status: failure.status,
          errorCode: failure.code,
          errorName: failure.codeName,
          requestBytes: 0,
          responseBytes: text.length,
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
        });
      });
  });
  // Requests carry whole insert batches; the client's own timeout governs slow statements.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Not destroyed on the early return: the rest is read and dropped, and the 413 still reaches the client.
  for await (const chunk of request.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      request.resume();
      throw new StoreRequestError(413, 0, 'REQUEST_TOO_LARGE', `request body over ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks);
  const encoding = (header(request, 'content-encoding') ?? '').toLowerCase();
  if (encoding === '' || encoding === 'identity') return raw;
  if (encoding !== 'gzip')
    throw new StoreRequestError(
      415,
      0,
      'UNSUPPORTED_ENCODING',
      `content encoding ${encoding} is not served; use gzip or none`,
    );
  try {
    return gunzipSync(raw, { maxOutputLength: maxBytes });
  } catch {
    throw new StoreRequestError(
      400,
      0,
      'CANNOT_DECOMPRESS',
      `the gzip request body is invalid or over ${maxBytes} bytes`,
    );
  }
}

const ESCAPES: Record<string, string> = {
  b: '\b',
  f: '\f',
  r: '\r',
  n: '\n',
  t: '\t',
  '0': '\0',
  a: '\x07',
  v: '\v',
};

/** `{name:Type}` placeholders of a statement: name → type. */
function placeholderTypes(query: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of query.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g))
    types.set(match[1] as string, match[2] as string);
  return types;
}

const COMPOSITE = /^(?:(?:Nullable|LowCardinality)\(\s*)*(?:Array|Tuple|Map|Nested)\b/;
/** Characters the engine's binder escapes in a string it is given (chDB's TSV escaping). */
const REESCAPED = /[\\\0\b\f\n\r\t]/;

/**
 * What the engine's binder must be given for a `param_` value so the engine reads what a server
 * would. The binder escapes strings for ClickHouse's escaped text form, and the engine reads a
 * scalar parameter back through that form: a scalar gets its unescaped text (or null for `\N`). An
 * Array, Tuple or Map is read as its quoted literal with no outer unescaping, so it is passed as
 * sent — which the binder leaves alone unless it holds characters it escapes; those are refused
 * with a clear error rather than bound altered.
 */
function bindableParam(name: string, value: string, type: string): string | null {
  if (!COMPOSITE.test(type)) return unescapeParam(value);
  if (REESCAPED.test(value))
    throw new StoreRequestError(
      400,
      457,
      'BAD_QUERY_PARAMETER',
      `parameter ${name} (${type}) holds a backslash or control character, which this store cannot bind unchanged; pass such values as scalar parameters`,
    );
  return value;
}

/**
 * A `param_` value as a server reads it: in ClickHouse's escaped text form (`\N` is NULL, `\t`,
 * `\\`, `\'` and the like are escapes; an array's quoted elements keep their own quoting). The
 * engine's binder escapes what it is given, so it gets the unescaped text, or null.
 */
export function unescapeParam(value: string): string | null {
  if (value === '\\N') return null;
  if (!value.includes('\\')) return value;
  return value.replace(/\\(x[0-9A-Fa-f]{2}|[\s\S])/g, (_, sequence: string) =>
    sequence.length === 3
      ? String.fromCharCode(Number.parseInt(sequence.slice(1), 16))
      : (ESCAPES[sequence] ?? sequence),
  );
}

function firstKeyword(query: string): string {
  const match = /^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/|\()*([A-Za-z]+)/.exec(query);
  return match ? (match[1] as string).toUpperCase() : 'UNKNOWN';
}

/** An engine error keeps its code and name; anything else is the store's own. */
function asStoreError(error: unknown): StoreRequestError {
  if (error instanceof StoreRequestError) return error;
  const e = error as { code?: unknown; type?: unknown; message?: unknown };
  const code = Number(e.code);
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (Number.isInteger(code) && code > 0 && typeof e.type === 'string') {
    const status = code === 60 || code === 81 ? 404 : code === 62 ? 400 : code === 164 ? 403 : 500;
    return new StoreRequestError(status, code, e.type, message);
  }
  return new StoreRequestError(500, 1001, 'STD_EXCEPTION', message);
}
