import { describe, expect, it } from 'vitest';
import { API_ROUTES, matchRoute } from '#functions/api/routes';

describe('matchRoute', () => {
  it('finds each route with its path parameters, decoded', () => {
    expect(matchRoute('POST', '/videos')).toMatchObject({
      kind: 'route',
      route: { operationId: 'createVideo' },
      pathParameters: null,
    });
    expect(matchRoute('get', '/videos/')).toMatchObject({
      kind: 'route',
      route: { operationId: 'listVideos' },
    });
    expect(matchRoute('GET', '/videos/job-1')).toMatchObject({
      kind: 'route',
      route: { operationId: 'getVideo' },
      pathParameters: { jobId: 'job-1' },
    });
    expect(matchRoute('DELETE', '/videos/a%20b')).toMatchObject({
      route: { operationId: 'cancelVideo' },
      pathParameters: { jobId: 'a b' },
    });
  });

  it('tells a wrong method from an unknown path', () => {
    expect(matchRoute('PUT', '/videos/job-1')).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'DELETE'],
    });
    expect(matchRoute('GET', '/videos/job-1/extra')).toEqual({ kind: 'not-found' });
    expect(matchRoute('GET', '/videos/%E0%A4%A')).toEqual({ kind: 'not-found' });
  });

  it('names one handler module per route', () => {
    expect(new Set(API_ROUTES.map((r) => r.module)).size).toBe(API_ROUTES.length);
  });
});
