/**
 * The embedded engine served over ClickHouse's HTTP interface, so that the services (and analysts'
 * tools) in separate processes share one embedded data directory: each connects with
 * `CLICKHOUSE_URL` as to a ClickHouse server, and only the store process loads the engine's library.
 *
 * The subset served is what @clickhouse/client, curl and HTTP-based ClickHouse tools use:
 * `GET /ping`; a statement in the `query` URL parameter and/or the request body (an INSERT's data in
 * the body); `param_<name>` query parameters; `default_format` (TabSeparated when absent, as a
 * server); other URL parameters as settings of the statement (`readonly` included); `query_id`;
 * gzip request and response bodies; the `X-ClickHouse-Summary` header; and errors as `Code: N.
 * DB::Exception: … (NAME)` with `X-ClickHouse-Exception-Code`. A GET request runs read-only, as on
 * a server.
 *
 * The engine's session is the whole process's, so what would outlive a request on it is refused:
 * more than one statement per request (a server refuses those too), SET, USE and temporary tables.
 * There is one database: a request naming another gets UNKNOWN_DATABASE (tables of others, such as
 * `system`, can still be named in SQL). Requests from web pages (an Origin header, or a Host that is
 * not the store's on a loopback address) are refused, so a page in a browser on the same machine
 * cannot send the store SQL.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { httpOnlySettings } from './query-settings.ts';
import { type StatementScan, scanStatement } from './sql-scan.ts';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

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
  /** Requests served at once; more are answered 503 (default 64). */
  maxConcurrent?: number;
  /** Engine version for error texts, e.g. "26.7.2.1". */
  version?: string;
  /** Called once per request, after the response is written (metrics, logs). */
  onRequest?(outcome: StoreRequestOutcome): void;
}

export interface StoreRequestOutcome {
  /** The statement's kind (SELECT, INSERT, …, OTHER), never its text: statements carry data. */
  statement: string;
  status: number;
  /** ClickHouse error code and name for a failed request. */
  errorCode?: number;
  errorName?: string;
  /** Body bytes as received (compressed, when it was) and as sent. */
  requestBytes: number;
  responseBytes: number;
  /** From the request's arrival to its response. */
  seconds: number;
}

export interface StoreServer {
  readonly url: string;
  /** Stops accepting requests, lets those in flight finish (for up to `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
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
  'buffer_size',
]);

/** Statement kinds reported in metrics; anything else is OTHER (labels must stay a small set). */
const STATEMENT_KINDS = new Set([
  'SELECT',
  'WITH',
  'INSERT',
  'CREATE',
  'ALTER',
  'DROP',
  'TRUNCATE',
  'RENAME',
  'OPTIMIZE',
  'SHOW',
  'DESCRIBE',
  'DESC',
  'EXISTS',
  'EXPLAIN',
  'SYSTEM',
  'KILL',
  'DELETE',
  'UPDATE',
]);

/** Insert formats whose data is not text: the engine's connection would decode them as UTF-8. */
const BINARY_FORMATS =
  /^(RowBinary\w*|Native|Parquet|Arrow\w*|ORC|Avro\w*|Protobuf\w*|CapnProto|MsgPack|BSONEachRow|Npy)$/i;

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1)$/i;
const HEADER_SAFE = /^[\x21-\x7e]{1,256}$/;
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

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
  const maxConcurrent = options.maxConcurrent ?? 64;
  const loopback = LOOPBACK_HOST.test(options.host);
  let inFlight = 0;
  let closing = false;

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

  const handle = async (
    request: IncomingMessage,
    response: ServerResponse,
    outcome: StoreRequestOutcome,
  ): Promise<void> => {
    if (closing) throw new StoreRequestError(503, 0, 'SERVER_STOPPING', 'the store is shutting down');
    // A web page must not reach the store: browsers send Origin on cross-site and on POST requests,
    // and a page that rebinds its own DNS name to 127.0.0.1 still sends its own Host.
    const hostName = (header(request, 'host') ?? '').replace(/:\d+$/, '');
    if (header(request, 'origin') !== undefined || (loopback && !LOOPBACK_HOST.test(hostName)))
      throw new StoreRequestError(403, 0, 'FORBIDDEN', 'requests from web pages are not served');
    const url = new URL(request.url ?? '/', 'http://store');
    const params = url.searchParams;
    if (
      url.pathname === '/ping' ||
      (url.pathname === '/' && request.method === 'GET' && !params.has('query'))
    ) {
      response.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
      outcome.statement = 'PING';
      outcome.responseBytes = 4;
      return;
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
        403,
        516,
        'AUTHENTICATION_FAILED',
        'Authentication failed: password is incorrect, or there is no user with such name',
      );
    const database = params.get('database') ?? header(request, 'x-clickhouse-database');
    if (database !== undefined && database !== null && database !== options.database)
      throw new StoreRequestError(
        404,
        81,
        'UNKNOWN_DATABASE',
        `this store serves database ${options.database} only, not ${database}`,
      );
    if (params.get('compress') === '1' || params.get('decompress') === '1')
      throw new StoreRequestError(
        400,
        48,
        'NOT_IMPLEMENTED',
        'ClickHouse native compression (compress/decompress=1) is not served; use gzip',
      );
    if (/^multipart\//i.test(header(request, 'content-type') ?? ''))
      throw new StoreRequestError(400, 48, 'NOT_IMPLEMENTED', 'multipart request bodies are not served');
    const queryId = params.get('query_id') ?? undefined;
    if (queryId !== undefined && !HEADER_SAFE.test(queryId))
      throw new StoreRequestError(
        400,
        36,
        'BAD_ARGUMENTS',
        'query_id must be 1–256 printable ASCII characters',
      );

    const { body, received } = await readBody(request, options.maxBodyBytes);
    outcome.requestBytes = received;
    const fromUrl = params.get('query') ?? '';
    const bodyText = hasContent(body);
    const urlScan = fromUrl ? scanStatement(fromUrl) : undefined;
    // As a server: the URL's statement followed by the body, which is an INSERT's data; or the body.
    let query: string;
    let values: Buffer | undefined;
    if (urlScan?.keyword === 'INSERT' && bodyText) {
      query = fromUrl;
      values = body;
    } else
      query =
        fromUrl && body.length > 0
          ? `${fromUrl}\n${body.toString('utf8')}`
          : fromUrl || body.toString('utf8');
    if (!query.trim()) throw new StoreRequestError(400, 62, 'SYNTAX_ERROR', 'Empty query');
    const scan = values ? (urlScan as StatementScan) : scanStatement(query);
    outcome.statement = STATEMENT_KINDS.has(scan.keyword) ? scan.keyword : 'OTHER';
    refuseSessionState(scan);
    if (scan.keyword === 'INSERT' && BINARY_FORMATS.test(scan.insertFormat))
      throw new StoreRequestError(
        400,
        48,
        'NOT_IMPLEMENTED',
        `binary insert format ${scan.insertFormat} is not served by the store; use a text format such as JSONEachRow or TSV`,
      );

    const settings: Record<string, string | number> = {};
    const rawParams = new Map<string, string>();
    for (const [name, value] of params) {
      if (name.startsWith('param_')) rawParams.set(name.slice('param_'.length), value);
      else if (!interfaceParams.has(name) && !httpOnlySettings.has(name)) {
        if (!SETTING_NAME.test(name))
          throw new StoreRequestError(400, 115, 'UNKNOWN_SETTING', `Unknown setting ${JSON.stringify(name)}`);
        settings[name] = value;
      }
    }
    if (Object.keys(settings).length > 0 && scan.keyword === 'CREATE')
      throw new StoreRequestError(
        400,
        48,
        'NOT_IMPLEMENTED',
        'settings in the URL are not applied to CREATE by this store (they would become table settings); put them in the statement',
      );
    // GET never writes, as on a server: readonly 2 unless the request asked for the stricter 1.
    if (request.method === 'GET') settings['readonly'] = settings['readonly'] === '1' ? 1 : 2;
    settings['default_format'] =
      params.get('default_format') ?? header(request, 'x-clickhouse-format') ?? 'TabSeparated';
    const bound = bindParams(query, scan, rawParams);

    // A client that gives up (its timeout, a closed connection) stops the statement.
    const abort = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) abort.abort();
    });
    const result = await options.client.exec({
      query: bound.query,
      ...(values ? { values: Readable.from([values]) } : {}),
      query_id: queryId,
      query_params: bound.params,
      clickhouse_settings: settings as ClickHouseSettings,
      abort_signal: abort.signal,
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
      /^(1|true)$/i.test(params.get('enable_http_compression') ?? '') &&
      acceptsGzip(header(request, 'accept-encoding'))
    ) {
      output = await gzipAsync(output);
      headers['Content-Encoding'] = 'gzip';
    }
    response.writeHead(200, headers).end(output);
    outcome.responseBytes = output.length;
  };

  const server: Server = createServer((request, response) => {
    const started = process.hrtime.bigint();
    const outcome: StoreRequestOutcome = {
      statement: 'OTHER',
      status: 200,
      requestBytes: 0,
      responseBytes: 0,
      seconds: 0,
    };
    const report = (): void => {
      outcome.seconds = Number(process.hrtime.bigint() - started) / 1e9;
      try {
        options.onRequest?.(outcome);
      } catch {
        // Metrics and logs must not take a request (or the process) down.
      }
    };
    const fail = (error: unknown): void => {
      const failure = asStoreError(error);
      const text = `Code: ${failure.code}. DB::Exception: ${failure.message.trim()} (${failure.codeName}) (version ${version})\n`;
      outcome.status = failure.status;
      outcome.errorCode = failure.code;
      outcome.errorName = failure.codeName;
      outcome.responseBytes = Buffer.byteLength(text);
      if (!response.headersSent) {
        response.writeHead(failure.status, {
          'Content-Type': 'text/plain; charset=UTF-8',
          'X-ClickHouse-Exception-Code': String(failure.code),
          // The request's body may not have been read: the connection is not reused.
          Connection: 'close',
        });
        response.once('finish', () => request.destroy());
      }
      if (!response.writableEnded) response.end(text);
      report();
    };
    if (inFlight >= maxConcurrent) {
      fail(
        new StoreRequestError(
          503,
          202,
          'TOO_MANY_SIMULTANEOUS_QUERIES',
          `more than ${maxConcurrent} requests at once`,
        ),
      );
      return;
    }
    inFlight++;
    handle(request, response, outcome)
      .then(report, fail)
      .finally(() => {
        inFlight--;
      });
  });
  // Receiving a request (an insert batch on a local network) is bounded; running it is not: the
  // client's own timeout governs that, and closing the connection stops the statement.
  server.requestTimeout = 120_000;
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
    close: async (graceMs = 5_000) => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

/**
 * What would outlive the request on the engine's one session: a second statement (a server
 * refuses those), SET (settings for everyone after), USE (another default database for everyone)
 * and temporary tables.
 */
function refuseSessionState(scan: StatementScan): void {
  if (scan.multiple) throw new StoreRequestError(400, 62, 'SYNTAX_ERROR', 'Multi-statements are not allowed');
  if (scan.keyword === 'SET' || scan.keyword === 'USE')
    throw new StoreRequestError(
      400,
      48,
      'NOT_IMPLEMENTED',
      `${scan.keyword} would change the store's one session for every client; pass settings as URL parameters and name databases in SQL`,
    );
  const [, second, , fourth] = scan.leadingWords;
  if (scan.keyword === 'CREATE' && (second === 'TEMPORARY' || (second === 'OR' && fourth === 'TEMPORARY')))
    throw new StoreRequestError(
      400,
      48,
      'NOT_IMPLEMENTED',
      'temporary tables would outlive the request on the store; use a regular table',
    );
}

const COMPOSITE = /^(?:(?:Nullable|LowCardinality)\(\s*)*(?:Array|Tuple|Map|Nested)\b/;

/**
 * The statement and parameters to hand the engine's binder so the engine reads what a server
 * would. The binder escapes strings for ClickHouse's escaped text form, and the engine reads a
 * scalar parameter back through that form: a scalar gets its unescaped text (or null for `\N`).
 * An Array, Tuple or Map is read as its quoted literal with no outer unescaping, which the binder's
 * escaping would alter: its placeholder becomes `CAST({name:String} AS Type)` and the text goes in
 * as sent, which the String parameter hands the cast unchanged.
 */
function bindParams(
  query: string,
  scan: StatementScan,
  raw: Map<string, string>,
): { query: string; params: Record<string, string | null> } {
  const params: Record<string, string | null> = {};
  for (const [name, value] of raw) params[name] = unescapeParam(value);
  const composite = scan.placeholders.filter((p) => COMPOSITE.test(p.type) && raw.has(p.name));
  if (composite.length === 0) return { query, params };
  let rewritten = '';
  let at = 0;
  for (const p of composite) {
    rewritten += `${query.slice(at, p.start)}CAST({${p.name}:String} AS ${p.type})`;
    at = p.end;
    params[p.name] = raw.get(p.name) as string;
  }
  return { query: rewritten + query.slice(at), params };
}

const ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '0': '\0',
};

/**
 * A `param_` value as a server reads it, in ClickHouse's escaped text form: `\N` alone is NULL
 * (and nothing inside a value), `\t`, `\n` and the like are control characters, `\xHH` a byte,
 * `\\`, `\'`, `\"`, `` \` `` and `\/` the character itself, and any other escape keeps its
 * backslash (`100\%` stays as written, for LIKE and regular expressions). The value is bytes on a
 * server, so `\xC3\xA9` is "é"; bytes that are not UTF-8 read as U+FFFD here, since the engine
 * takes parameters as JavaScript strings.
 */
export function unescapeParam(value: string): string | null {
  if (value === '\\N') return null;
  if (!value.includes('\\')) return value;
  // Built as bytes (the text between escapes as UTF-8, `\xHH` as the byte), then read as UTF-8.
  const pieces: Buffer[] = [];
  let at = 0;
  for (const match of value.matchAll(ESCAPE_SEQUENCE)) {
    pieces.push(Buffer.from(value.slice(at, match.index), 'utf8'), unescapeSequence(match[1] as string));
    at = match.index + match[0].length;
  }
  pieces.push(Buffer.from(value.slice(at), 'utf8'));
  return Buffer.concat(pieces).toString('utf8');
}

/** A backslash and what it escapes: two hex digits after `x`, or one code point. */
const ESCAPE_SEQUENCE = /\\(x[0-9A-Fa-f]{2}|[\s\S])/gu;

/** The bytes an escape stands for (`sequence` is what follows the backslash). */
function unescapeSequence(sequence: string): Buffer {
  if (sequence.length === 3) return Buffer.of(Number.parseInt(sequence.slice(1), 16));
  if (sequence === 'N') return Buffer.alloc(0);
  const control = ESCAPES[sequence];
  if (control !== undefined) return Buffer.from(control);
  return Buffer.from('\\\'"`/'.includes(sequence) ? sequence : `\\${sequence}`, 'utf8');
}

/** Whether the body holds anything but whitespace (read from the front: an insert batch is not decoded for this). */
function hasContent(body: Buffer): boolean {
  for (const byte of body) if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return true;
  return false;
}

function acceptsGzip(acceptEncoding: string | undefined): boolean {
  return (acceptEncoding ?? '').split(',').some((part) => {
    const [coding, ...parameters] = part.trim().split(';');
    const q = parameters.map((p) => /^\s*q=([0-9.]+)/.exec(p)?.[1]).find((v) => v !== undefined);
    return coding?.toLowerCase() === 'gzip' && (q === undefined || Number(q) > 0);
  });
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(
  request: IncomingMessage,
  maxBytes: number,
): Promise<{ body: Buffer; received: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Not destroyed on the early return, so the 413 still reaches the client (then the connection closes).
  for await (const chunk of request.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes)
      throw new StoreRequestError(413, 0, 'REQUEST_TOO_LARGE', `request body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks);
  const encoding = (header(request, 'content-encoding') ?? '').toLowerCase();
  if (encoding === '' || encoding === 'identity') return { body: raw, received: size };
  if (encoding !== 'gzip')
    throw new StoreRequestError(
      415,
      0,
      'UNSUPPORTED_ENCODING',
      `content encoding ${encoding} is not served; use gzip or none`,
    );
  let body: Buffer;
  try {
    body = await gunzipAsync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new StoreRequestError(
        413,
        0,
        'REQUEST_TOO_LARGE',
        `request body over ${maxBytes} bytes once decompressed`,
      );
    throw new StoreRequestError(400, 0, 'CANNOT_DECOMPRESS', 'the gzip request body is invalid');
  }
  return { body, received: size };
}

/** An engine error keeps its code and name; anything else is the store's own. */
function asStoreError(error: unknown): StoreRequestError {
  if (error instanceof StoreRequestError) return error;
  const e = error as { code?: unknown; type?: unknown; message?: unknown; name?: unknown };
  const code = Number(e.code);
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (Number.isInteger(code) && code > 0 && typeof e.type === 'string') {
    const status = code === 60 || code === 81 ? 404 : code === 62 ? 400 : code === 164 ? 403 : 500;
    return new StoreRequestError(status, code, e.type, message);
  }
  if (e.name === 'AbortError')
    return new StoreRequestError(499, 394, 'QUERY_WAS_CANCELLED', 'the client closed the request');
  return new StoreRequestError(500, 1001, 'STD_EXCEPTION', message);
}
