// A JSON Schema validator for the small subset our request model uses, written out so the tests can
// (1) check that the model stays inside that subset — the draft-4 keywords API Gateway's validator
// understands — and (2) play API Gateway: decide whether the gateway would let a body through.
type Schema = Record<string, unknown>;

const KEYWORDS = new Set([
  '$schema',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'enum',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'default',
  'description',
  'title',
]);

/** Keywords outside the subset, with where they are: empty when the schema stays inside it. */
export const unsupportedKeywords = (schema: unknown, at = '#'): string[] => {
  if (schema === null || typeof schema !== 'object') return [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (!KEYWORDS.has(key)) problems.push(`${at}/${key}`);
    if (key === 'properties') {
      for (const [name, child] of Object.entries(value as Schema)) {
        problems.push(...unsupportedKeywords(child, `${at}/properties/${name}`));
      }
    }
  }
  return problems;
};

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

const matchesType = (value: unknown, type: unknown): boolean => {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
};

/** JSON Schema string length counts code points, not UTF-16 units. */
const lengthOf = (text: string): number => [...text].length;

/** The problems a validator following the schema would report; empty when it accepts the value. */
export const validate = (schema: Schema, value: unknown, at = ''): string[] => {
  const problems: string[] = [];
  if (schema.type !== undefined && !matchesType(value, schema.type)) {
    return [`${at || '/'}: expected ${String(schema.type)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => option === value)) {
    problems.push(`${at}: not in enum`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && lengthOf(value) < schema.minLength)
      problems.push(`${at}: too short`);
    if (typeof schema.maxLength === 'number' && lengthOf(value) > schema.maxLength)
      problems.push(`${at}: too long`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
      problems.push(`${at}: pattern`);
    }
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${at}: below minimum`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${at}: above maximum`);
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in object)) problems.push(`${at}/${name}: required`);
    }
    for (const [name, child] of Object.entries(object)) {
      const property = properties[name];
      if (property !== undefined) problems.push(...validate(property, child, `${at}/${name}`));
      else if (schema.additionalProperties === false) problems.push(`${at}/${name}: not allowed`);
    }
  }
  return problems;
};
