/**
 * The incident console: routes for the admin server of the process that runs the alerter (the
 * all-in-one runner, or the alerter alone). Off unless a token or basic-auth users are configured;
 * every request without valid credentials gets 401 (a sign-in form for browsers). Pages:
 *
 *   /                      overview: events/s, consumer lag, detections per kind
 *   /incidents             incidents list with filters and pages
 *   /incidents/<id>        the page notifications link to: chart, evidence, notifications, actions
 *   /accounts/<id>         7 days of traffic, API keys with scope and usage, incidents
 *   /api/incidents/<id>    the incident page's data as JSON
 *   /assets/…              uPlot and the console's own script and stylesheet (no CDN)
 *
 * Actions (POST /incidents/<id>/ack|unack|resolve|silence) are the CLI's operations, recorded with
 * the signed-in person's name; `onChange` lets the alerter in this process apply them at once.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ClickHouseClient } from '@clickhouse/client';
import type { AdminRoute, Logger, Registry } from '@floodgate/observability';
import { type Caller, type ConsoleAccess, Gate } from './auth.ts';
import { ConsoleData, type Privacy } from './data.ts';
import {
  accountPage,
  incidentPage,
  incidentsPage,
  loginPage,
  messagePage,
  overviewPage,
  type PageContext,
} from './html.ts';

export interface ConsoleActions {
  /** Records an acknowledge / unacknowledge / resolve (alert_actions). */
  record(input: {
    incidentId: string;
    action: 'ack' | 'unack' | 'resolve';
    actor: string;
    note: string;
  }): Promise<{ id: string }>;
  /** Creates a silence (alert_silences). */
  silence(input: {
    matchers: { name: string; op: '='; value: string }[];
    endsAtMs: number;
    createdBy: string;
    comment: string;
  }): Promise<{ id: string }>;
}

export interface ConsoleOptions {
  clickhouse: ClickHouseClient;
  access: ConsoleAccess;
  privacy: Privacy;
  actions: ConsoleActions;
  /** Metrics of this process (consumer lag for the overview). */
  registry?: Registry;
  logger?: Logger;
  /** Called after an action was stored, so the alerter here applies it now rather than at its next poll. */
  onChange?(what: 'actions' | 'silences'): Promise<void>;
  now?: () => number;
}

type Request = Parameters<AdminRoute>[0];
type Answer = Awaited<ReturnType<AdminRoute>>;

const HTML = 'text/html; charset=utf-8';
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // Everything comes from this process; the page's JSON data blocks are not scripts.
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
};
const DURATIONS: Record<string, number> = {
  '1h': 3_600_000,
  '4h': 4 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};
const ID = /^[0-9a-f]{8,64}$/;

function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const require = createRequire(import.meta.url);
  const own = (name: string) => new URL(`../assets/${name}`, import.meta.url);
  return new Map([
    [
      'uPlot.iife.min.js',
      { type: 'text/javascript', body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')) },
    ],
    ['uPlot.min.css', { type: 'text/css', body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')) }],
    ['console.js', { type: 'text/javascript', body: readFileSync(own('console.js')) }],
    ['console.css', { type: 'text/css', body: readFileSync(own('console.css')) }],
  ]);
}

export function consoleRoutes(options: ConsoleOptions): Record<string, AdminRoute> {
  const gate = new Gate(options.access);
  if (!gate.enabled) return {};
  const data = new ConsoleData(options.clickhouse, options.privacy);
  const assets = loadAssets();
  const now = options.now ?? Date.now;
  const log = options.logger;

  const page = (status: number, body: string, headers: Record<string, string> = {}): Answer => ({
    status,
    type: HTML,
    body,
    headers: { ...SECURITY_HEADERS, ...headers },
  });
  const json = (status: number, value: unknown): Answer => ({
    status,
    type: 'application/json',
    body: JSON.stringify(value),
    headers: SECURITY_HEADERS,
  });
  const redirect = (location: string, headers: Record<string, string> = {}): Answer => ({
    status: 303,
    type: 'text/plain',
    body: `see ${location}\n`,
    headers: { ...SECURITY_HEADERS, location, ...headers },
  });
  const unauthorized = (request: Request, message = ''): Answer => {
    const headers: Record<string, string> = gate.basicUsers
      ? { 'www-authenticate': 'Basic realm="Floodgate console", charset="UTF-8"' }
      : {};
    if (request.path.startsWith('/api/') || !String(request.headers['accept'] ?? '').includes('text/html'))
      return {
        status: 401,
        type: 'text/plain',
        body: 'sign in: a console session, basic auth or a bearer token is required\n',
        headers: { ...SECURITY_HEADERS, ...headers },
      };
    return page(401, loginPage(message, gate.basicUsers, gate.tokenSignIn), headers);
  };
  const context = (caller: Caller): PageContext => ({
    actor: caller.actor,
    csrf: gate.csrf(caller),
    privacy: options.privacy,
  });
  const form = (request: Request): URLSearchParams => new URLSearchParams(request.body);

  // A sign-in attempt: right token → cookie; wrong → 401 with the form again.
  const login: AdminRoute = async (request) => {
    if (request.method === 'GET') return page(200, loginPage('', gate.basicUsers, gate.tokenSignIn));
    if (request.method !== 'POST')
      return page(
        405,
        messagePage(context({ actor: '', via: 'session' }), 'Not allowed', 'GET or POST only'),
      );
    const fields = form(request);
    const cookie = gate.signIn(fields.get('name') ?? '', fields.get('token') ?? '', now());
    if (!cookie) {
      log?.warn({ event: 'console_sign_in_failed' }, 'console sign-in failed');
      return page(401, loginPage('Wrong token, or no name given.', gate.basicUsers, gate.tokenSignIn));
    }
    const next = fields.get('next') ?? '';
    return redirect(next.startsWith('/') && !next.startsWith('//') && next !== '/login' ? next : '/', {
      'set-cookie': cookie,
    });
  };
  const logout: AdminRoute = async () =>
    redirect('/login', { 'set-cookie': 'floodgate_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0' });

  /** Wraps a handler: 401 without credentials, 500 page (logged) when a query fails. */
  const guarded =
    (handler: (request: Request, caller: Caller) => Promise<Answer>): AdminRoute =>
    async (request) => {
      const caller = gate.check(request.headers, now());
      if (!caller) return unauthorized(request);
      try {
        return await handler(request, caller);
      } catch (error) {
        log?.error({ err: error, path: request.path }, 'console request failed');
        return request.path.startsWith('/api/')
          ? json(500, { error: (error as Error).message })
          : page(500, messagePage(context(caller), 'Something failed', (error as Error).message));
      }
    };

  const consumerLag = async (): Promise<
    { group: string; topic: string; partition: string; lag: number }[]
  > => {
    const metric = await options.registry?.getSingleMetric('floodgate_consumer_lag')?.get();
    return (metric?.values ?? []).map(
      (v: { labels: Record<string, string | number | undefined>; value: number }) => ({
        group: String(v.labels['group'] ?? ''),
        topic: String(v.labels['topic'] ?? ''),
        partition: String(v.labels['partition'] ?? ''),
        lag: Number(v.value),
      }),
    );
  };

  const overview = guarded(async (request, caller) => {
    if (request.path !== '/') return page(404, messagePage(context(caller), 'Not found', request.path));
    const [view, lag, open] = await Promise.all([data.overview(now()), consumerLag(), data.openCounts()]);
    return page(200, overviewPage(context(caller), view, lag, open));
  });

  const incidents = guarded(async (request, caller) => {
    const q = new URLSearchParams(request.query);
    const state = ['open', 'resolved', 'all'].includes(q.get('state') ?? '')
      ? (q.get('state') as 'open')
      : 'open';
    const severity = ['critical', 'error', 'warning', 'info'].includes(q.get('severity') ?? '')
      ? (q.get('severity') as string)
      : '';
    const kind = /^[a-z_]{1,40}$/.test(q.get('kind') ?? '') ? (q.get('kind') as string) : '';
    const account = (q.get('account') ?? '').trim().slice(0, 128);
    const pageSize = Math.min(200, Math.max(1, Number.parseInt(q.get('pageSize') ?? '', 10) || 50));
    const pageNumber = Math.min(1000, Math.max(1, Number.parseInt(q.get('page') ?? '', 10) || 1));
    const rows = await data.incidents({
      state,
      severities: severity ? [severity] : [],
      kinds: kind ? [kind] : [],
      account,
      limit: pageSize,
      offset: (pageNumber - 1) * pageSize,
      nowMs: now(),
    });
    return page(
      200,
      incidentsPage(
        context(caller),
        rows,
        { state, severity, kind, account, page: pageNumber, pageSize },
        now(),
      ),
    );
  });

  /** /incidents/<id> (GET) and /incidents/<id>/<action> (POST). */
  const incident = guarded(async (request, caller) => {
    const [, , given = '', action] = request.path.split('/');
    if (!/^[0-9a-f]{4,64}$/i.test(given))
      return page(404, messagePage(context(caller), 'Not found', 'not an incident id'));
    const id = given.toLowerCase();
    if (!ID.test(id) || id.length < 32) {
      const matches = await data.incidentIdsStartingWith(id);
      if (matches.length !== 1)
        return page(
          404,
          messagePage(
            context(caller),
            'Not found',
            matches.length === 0
              ? `no incident ${given}`
              : `${given} matches several incidents; give more characters`,
          ),
        );
      return redirect(`/incidents/${matches[0]}${action ? `/${action}` : ''}`);
    }
    if (action === undefined) {
      if (request.method !== 'GET') return page(405, messagePage(context(caller), 'Not allowed', 'GET only'));
      const view = await data.incident(id, now());
      if (!view) return page(404, messagePage(context(caller), 'Not found', `no incident ${id}`));
      return page(200, incidentPage(context(caller), view, now()));
    }
    if (request.method !== 'POST') return page(405, messagePage(context(caller), 'Not allowed', 'POST only'));
    const fields = form(request);
    if (!gate.csrfOk(caller, fields.get('csrf')))
      return page(
        403,
        messagePage(
          context(caller),
          'Refused',
          'the form is stale or came from another site; reload the page and try again',
        ),
      );
    if (action === 'ack' || action === 'unack' || action === 'resolve') {
      const recorded = await options.actions.record({
        incidentId: id,
        action,
        actor: caller.actor,
        note: (fields.get('note') ?? '').slice(0, 500),
      });
      log?.info(
        { event: 'console_action', action, incident: id, actor: caller.actor, actionId: recorded.id },
        'incident action recorded',
      );
      await options.onChange?.('actions');
      return redirect(`/incidents/${id}`);
    }
    if (action === 'silence') {
      const view = await data.incident(id, now());
      if (!view) return page(404, messagePage(context(caller), 'Not found', `no incident ${id}`));
      const ms = DURATIONS[fields.get('duration') ?? ''];
      const comment = (fields.get('comment') ?? '').trim().slice(0, 500);
      if (!ms || comment === '' || !view.account)
        return page(
          400,
          messagePage(
            context(caller),
            'Not silenced',
            !view.account ? 'this incident has no account to silence' : 'choose a duration and say why',
          ),
        );
      const kind = fields.get('kind') ?? '';
      const matchers: { name: string; op: '='; value: string }[] = [
        { name: 'account', op: '=', value: view.account },
      ];
      if (kind !== '' && view.incident.kinds.includes(kind))
        matchers.push({ name: 'kind', op: '=', value: kind });
      const silence = await options.actions.silence({
        matchers,
        endsAtMs: now() + ms,
        createdBy: caller.actor,
        comment,
      });
      log?.info(
        { event: 'console_silence', incident: id, actor: caller.actor, silence: silence.id },
        'silence created',
      );
      await options.onChange?.('silences');
      return redirect(`/incidents/${id}`);
    }
    return page(404, messagePage(context(caller), 'Not found', `no action ${action}`));
  });

  const incidentJson = guarded(async (request) => {
    const id = request.path.split('/')[3] ?? '';
    if (!ID.test(id)) return json(404, { error: 'not an incident id' });
    const view = await data.incident(id, now());
    return view ? json(200, view) : json(404, { error: `no incident ${id}` });
  });

  const account = guarded(async (request, caller) => {
    const id = decodeURIComponent(request.path.split('/')[2] ?? '');
    if (id === '' || id.length > 128)
      return page(404, messagePage(context(caller), 'Not found', 'no account id'));
    return page(200, accountPage(context(caller), await data.account(id, now())));
  });

  // Assets are public (library code and styles, nothing about the traffic), so the sign-in page has them too.
  const asset: AdminRoute = async (request) => {
    const file = assets.get(request.path.slice('/assets/'.length));
    return file
      ? {
          status: 200,
          type: `${file.type}; charset=utf-8`,
          body: file.body,
          headers: { 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' },
        }
      : { status: 404, type: 'text/plain', body: 'not found\n' };
  };

  return {
    '/': overview,
    '/login': login,
    '/logout': logout,
    '/incidents': incidents,
    '/incidents/*': incident,
    '/api/incidents/*': incidentJson,
    '/accounts/*': account,
    '/assets/*': asset,
  };
}
