import t from 'tap';
import { valueNestsDeeperThan } from '../../src/engine/index.js';
import { BodyError, MAX_JSON_DEPTH, nestsDeeperThan, parseJsonBody } from '../../src/server/json.js';

const nested = (depth: number, open = '{"a":', close = '}') => `${open.repeat(depth)}1${close.repeat(depth)}`;

t.test('depth is counted over objects and arrays alike', async (t) => {
  t.equal(nestsDeeperThan(nested(600), 512), true);
  t.equal(nestsDeeperThan(nested(600, '[', ']'), 512), true);
  t.equal(nestsDeeperThan(nested(512), 512), false, 'exactly the limit is fine');
  t.equal(nestsDeeperThan(`[${'{},'.repeat(2000)}{}]`, 512), false, 'many siblings are not depth');
});

t.test('brackets inside strings are not structure', async (t) => {
  const tricky = JSON.stringify({ a: '{'.repeat(2000), b: '\\"[[[[', c: ['"', '\\'] });
  t.equal(nestsDeeperThan(tricky, 10), false);
  t.same(parseJsonBody(tricky), JSON.parse(tricky));
});

t.test('parses without changing anything', async (t) => {
  const text = '{"n":"1","b":"true","extra":{"__proto__":{"polluted":1}},"list":[],"nil":null}';
  const parsed = parseJsonBody(text) as Record<string, unknown>;
  t.equal(parsed.n, '1', 'no type coercion');
  t.equal(parsed.b, 'true');
  t.same(Object.keys(parsed.extra as object), ['__proto__'], 'the key is kept as data');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'and no prototype is touched');
  t.equal(JSON.stringify(parsed), text, 'round-trips byte for byte');
});

t.test('refusals say what is wrong', async (t) => {
  t.throws(() => parseJsonBody(''), new BodyError('the body is empty: expected an AdmissionReview JSON object'));
  t.throws(() => parseJsonBody('  \n'), BodyError);
  t.throws(() => parseJsonBody('{"a":'), { message: /^the body is not valid JSON: / });
  t.throws(() => parseJsonBody(nested(MAX_JSON_DEPTH + 1)), {
    message: `the body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`,
  });
  t.throws(
    () => parseJsonBody(nested(100_000, '[', ']')),
    new BodyError(`the body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`),
    'very deep input is refused, not a stack overflow',
  );
});

t.test('the parsed value is judged as deep as its text', async (t) => {
  const bodies = [
    nested(512),
    nested(513),
    nested(512, '[', ']'),
    nested(513, '[', ']'),
    `[${'{},'.repeat(2000)}{}]`,
    JSON.stringify({ a: '{'.repeat(2000), b: '\\"[[[[', c: ['"', '\\'], d: [[[{ e: [] }]]] }),
    '{"__proto__":{"a":{"b":[]}}}',
    '"just a string"',
    '[]',
  ];
  for (const body of bodies) {
    for (const limit of [0, 1, 2, 3, 4, 5, 512]) {
      t.equal(valueNestsDeeperThan(JSON.parse(body), limit), nestsDeeperThan(body, limit), `${body.slice(0, 30)} at ${limit}`);
    }
  }
});

t.test('invalid JSON that nests too deep is refused for its depth, as before parsing', async (t) => {
  t.throws(() => parseJsonBody(nested(MAX_JSON_DEPTH + 1).slice(0, -1)), {
    message: `the body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`,
  });
  t.throws(() => parseJsonBody(nested(MAX_JSON_DEPTH).slice(0, -1)), { message: /^the body is not valid JSON: / });
});

t.test('a large deep body is refused before it is parsed', async (t) => {
  const parse = JSON.parse;
  let parsed = 0;
  JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
    parsed++;
    return parse(...args);
  };
  t.teardown(() => {
    JSON.parse = parse;
  });
  t.throws(() => parseJsonBody(nested(300_000, '[', ']')), {
    message: `the body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`,
  });
  t.equal(parsed, 0, 'without building 300,000 nested arrays first');
  t.same(parseJsonBody(nested(100, '[', ']')), parse(nested(100, '[', ']')));
  t.equal(parsed, 1, 'a small body is parsed, then judged');
});
