// What a route answers, before the transport (and any transport fault) turns it into bytes.
import type { VideoFile } from '#emulator/videos';

export type Headers = Record<string, string>;

export type Reply =
  | { kind: 'json'; status: number; body: Record<string, unknown>; headers?: Headers }
  | { kind: 'html'; status: number; html: string; headers?: Headers }
  | { kind: 'empty'; status: number; headers?: Headers }
  | { kind: 'file'; status: number; file: VideoFile; contentType: string; headers?: Headers };

export const json = (status: number, body: Record<string, unknown>, headers?: Headers): Reply => ({
  kind: 'json',
  status,
  body,
  ...(headers ? { headers } : {}),
});

export const jsonError = (status: number, error: string, headers?: Headers): Reply =>
  json(status, { error }, headers);

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Not Allowed',
  406: 'Not Acceptable',
  410: 'Gone',
  413: 'Request Entity Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

export const reasonPhrase = (status: number): string => REASONS[status] ?? 'Error';

/** The HTML page Segmind's gateway (nginx) serves for errors it answers itself, such as 405 or 502. */
export const gatewayPage = (status: number): Reply => {
  const title = `${status} ${reasonPhrase(status)}`;
  return {
    kind: 'html',
    status,
    html: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
  };
};
