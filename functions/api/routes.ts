// The API's routes as data, read by the CDK construct (resources, methods, one function each), the
// OpenAPI generator and the local HTTP server, so all three serve the same paths with the same handlers.
// No handler is imported here: importing this module configures nothing and reads no environment.

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface ApiRouteSpec {
  operationId: string;
  method: HttpMethod;
  /** API Gateway resource path; `{name}` is a path parameter. */
  path: string;
  /** The handler module under functions/, exporting `handler`. */
  module: string;
  summary: string;
}

export const API_ROUTES = [
  {
    operationId: 'createVideo',
    method: 'POST',
    path: '/videos',
    module: 'api/create-video',
    summary: 'Start a video job',
  },
  {
    operationId: 'listVideos',
    method: 'GET',
    path: '/videos',
    module: 'api/list-videos',
    summary: 'List jobs, newest first',
  },
  {
    operationId: 'getVideo',
    method: 'GET',
    path: '/videos/{jobId}',
    module: 'api/get-video',
    summary: 'Get a job, with a download link once it is COMPLETED',
  },
  {
    operationId: 'cancelVideo',
    method: 'DELETE',
    path: '/videos/{jobId}',
    module: 'api/cancel-video',
    summary: 'Cancel a job that is still running',
  },
] as const satisfies readonly ApiRouteSpec[];

export type RouteMatch =
  | { kind: 'route'; route: ApiRouteSpec; pathParameters: Record<string, string> | null }
  /** The path exists but not with this method: answer 405 with `allow`. */
  | { kind: 'method-not-allowed'; allow: HttpMethod[] }
  | { kind: 'not-found' };

const segmentsOf = (path: string): string[] => path.split('/').filter((s) => s !== '');

/** Which route serves a request path (without stage or query), as API Gateway would pick it. */
export const matchRoute = (method: string, requestPath: string): RouteMatch => {
  const actual = segmentsOf(requestPath);
  const candidates = API_ROUTES.flatMap((route) => {
    const pattern = segmentsOf(route.path);
    if (pattern.length !== actual.length) return [];
    const params: Record<string, string> = {};
    for (const [i, part] of pattern.entries()) {
      const segment = actual[i] ?? '';
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name !== undefined) {
        try {
          params[name] = decodeURIComponent(segment);
        } catch {
          return [];
        }
      } else if (part !== segment) {
        return [];
      }
    }
    return [{ route: route as ApiRouteSpec, params }];
  });
  const hit = candidates.find((c) => c.route.method === method.toUpperCase());
  if (hit !== undefined) {
    return {
      kind: 'route',
      route: hit.route,
      pathParameters: Object.keys(hit.params).length === 0 ? null : hit.params,
    };
  }
  if (candidates.length > 0)
    return { kind: 'method-not-allowed', allow: candidates.map((c) => c.route.method) };
  return { kind: 'not-found' };
};
