import { describe, expect, it } from 'vitest';
import { type AdminRoute, findRoute } from './admin-server.ts';

const route =
  (name: string): AdminRoute =>
  async () => ({ status: 200, type: 'text/plain', body: name });

describe('admin routes', () => {
  it('prefers an exact path, then the longest /* prefix the path is under', async () => {
    const routes = {
      '/incidents': route('list'),
      '/incidents/action': route('cli-action'),
      '/incidents/*': route('incident'),
      '/api/incidents/*': route('api'),
    };
    const name = async (path: string) =>
      (await findRoute(routes, path)?.({ method: 'GET', path, query: '', headers: {}, body: '' }))?.body;
    expect(await name('/incidents')).toBe('list');
    expect(await name('/incidents/action')).toBe('cli-action');
    expect(await name('/incidents/abc123/ack')).toBe('incident');
    expect(await name('/api/incidents/abc')).toBe('api');
    expect(findRoute(routes, '/incidentsX')).toBeUndefined();
    expect(findRoute(routes, '/other')).toBeUndefined();
  });
});
