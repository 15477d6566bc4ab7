// What may never reach a log line, removed in one place: URLs keep scheme, host and path but lose their
// query string (a presigned S3 URL's query *is* its credential), fragment and user:password; stray SigV4
// parameters (an encoded URL, a query pasted alone) go too; and the Segmind API key — the value in use,
// whatever its shape, and anything shaped like one — becomes REDACTED. The Powertools logger of every
// handler serializes through logReplacer, the handler wrapper scrubs the error that ends an invocation,
// and the local stack's console lines pass through redactText.

export const REDACTED = '[REDACTED]';

/** Any absolute URL with an authority, up to whitespace, a quote, a bracket or a backslash. */
const URL_PATTERN = /\b[a-z][a-z\d+.-]*:\/\/[^\s"'`<>\\]+/gi;
/** SigV4 query parameters (plain or URL-encoded `=`) outside a URL the pattern above could parse. */
const SIGV4_PARAMETER = /X-Amz-[a-z-]+(?:=|%3D)[^&\s"'`<>\\]*/gi;
/** Segmind keys look like `SG_` and hex; redacted even before the key in use is known. */
const SEGMIND_KEY_SHAPE = /\bSG_[a-z\d]{8,}\b/gi;
/** Object keys whose values are credentials, wherever they sit in a logged object. */
const SECRET_FIELD = /^(x-api-key|api[-_]?key|authorization|segmind[-_]?api[-_]?key|secret|password)$/i;

const knownSecrets = new Set<string>();

/**
 * A value that must never be logged as is (the Segmind key read from Secrets Manager or the environment).
 * Short values are ignored: redacting every "ab" in every line would hide more than it protects.
 */
export const registerSecret = (value: string): void => {
  const trimmed = value.trim();
  if (trimmed.length >= 8) knownSecrets.add(trimmed);
};

const redactUrl = (raw: string): string => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not parseable: cut at the first query or fragment delimiter, which is all a URL's secrets need.
    const cut = raw.search(/[?#]/);
    return cut < 0 ? raw : `${raw.slice(0, cut)}?${REDACTED}`;
  }
  const credentials = url.username !== '' || url.password !== '';
  const query = url.search !== '' || url.hash !== '' || raw.includes('?');
  if (!credentials && !query) return raw;
  const authority = `${credentials ? `${REDACTED}@` : ''}${url.host}`;
  return `${url.protocol}//${authority}${url.pathname}${query ? `?${REDACTED}` : ''}`;
};

/** The text with every URL's query, fragment and credentials, SigV4 parameter and API key redacted. */
export const redactText = (text: string): string => {
  let redacted = text.replace(URL_PATTERN, redactUrl).replace(SIGV4_PARAMETER, REDACTED);
  for (const secret of knownSecrets) redacted = redacted.replaceAll(secret, REDACTED);
  return redacted.replace(SEGMIND_KEY_SHAPE, REDACTED);
};

/**
 * A JSON.stringify replacer (Powertools' `jsonReplacerFn`): credential fields are replaced whole, every
 * other string — messages, error messages and stacks, causes, nested values — goes through redactText.
 */
export const logReplacer = (key: string, value: unknown): unknown => {
  if (SECRET_FIELD.test(key) && value !== undefined && value !== null && value !== '') return REDACTED;
  return typeof value === 'string' ? redactText(value) : value;
};

/** A deep copy of a value with logReplacer applied, for anything printed without the logger. */
export const redactValue = <T>(value: T): T =>
  value === undefined ? value : (JSON.parse(JSON.stringify(value, logReplacer)) as T);

/**
 * Scrubs an error (and its causes) in place, keeping its name — Retry and Catch match that — so that
 * what the Lambda runtime logs and Step Functions records as the Cause carries no secret either.
 */
export const redactError = (error: unknown, depth = 0): void => {
  if (!(error instanceof Error) || depth > 5) return;
  for (const field of ['message', 'stack'] as const) {
    const text = error[field];
    if (typeof text !== 'string') continue;
    const redacted = redactText(text);
    if (redacted === text) continue;
    try {
      Object.defineProperty(error, field, { value: redacted, writable: true, configurable: true });
    } catch {
      // A frozen error keeps its text; the logger's replacer still redacts it when it is logged.
    }
  }
  redactError(error.cause, depth + 1);
};
