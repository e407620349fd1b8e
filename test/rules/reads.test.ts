// What a rule's CEL may read of the object (src/rules/reads.ts): a large review judged by custom
// rules keeps only that, so a read this misses would judge another object. The differential proof
// is test/server/large-body.test.ts ("custom rules that declare reads: ..."); here, what each shape
// of expression is taken to read, and the shapes the walk gives up on (the object is kept whole).
import t from 'tap';
import { parseRule } from '../../src/rules/compile.js';
import { expressionReads } from '../../src/rules/reads.js';

const paths = (expression: string) => {
  const reads = expressionReads(parseRule(expression));
  const text = (list: readonly { root: string; path: readonly string[] }[]) => list.map((p) => [p.root, ...p.path].join('.')).sort();
  if (!reads) return undefined;
  const present = text(reads.present);
  return { whole: text(reads.whole), ranged: text(reads.ranged), ...(present.length > 0 ? { present } : {}) };
};

t.test('a field read and compared is kept whole; the fields on the way are not', async (t) => {
  t.same(paths('object.spec.replicas > 1'), { whole: ['object.spec.replicas'], ranged: [] });
  t.same(paths('oldObject.metadata.name == object.metadata.name'), { whole: ['object.metadata.name', 'object.metadata.name'], ranged: [] });
  t.same(paths('object.?spec.?paused.orValue(false)'), { whole: ['object.spec.paused'], ranged: [] });
  t.same(paths('object.metadata.labels["team"] == "a"'), { whole: ['object.metadata.labels.team'], ranged: [] });
  t.same(paths('size(object.spec.template.spec) < 4'), { whole: ['object.spec.template.spec'], ranged: [] });
});

t.test('has() asks whether a field is there: what holds it is followed, the field’s value is not read', async (t) => {
  t.same(paths('has(object.metadata.labels.team)'), { whole: [], ranged: [], present: ['object.metadata.labels.team'] });
  t.same(paths('!has(object.spec.template.spec.volumes)'), { whole: [], ranged: [], present: ['object.spec.template.spec.volumes'] });
  t.same(paths('object.spec.containers.all(c, has(c.livenessProbe))'), {
    whole: [],
    ranged: ['object.spec.containers'],
    present: ['object.spec.containers.[].livenessProbe'],
  });
  t.same(
    paths('has(object.status) && object.status.replicas > 0'),
    { whole: ['object.status.replicas'], ranged: [], present: ['object.status'] },
    'a read of the field besides keeps what it reads',
  );
  t.same(paths('has(object.metadata.labels.team) == has(object.metadata.annotations.team)'), {
    whole: [],
    ranged: [],
    present: ['object.metadata.annotations.team', 'object.metadata.labels.team'],
  });
});

t.test('a value used whole keeps everything under it: functions, equality, membership, a dynamic key', async (t) => {
  t.same(paths('object.spec == oldObject.spec'), { whole: ['object.spec', 'object.spec'], ranged: [] });
  t.same(paths('"team" in object.metadata.labels'), { whole: ['object.metadata.labels'], ranged: [] });
  t.same(paths('object.metadata.labels[request.userInfo.username] == ""')?.whole, ['object.metadata.labels'], 'request holds no object');
  t.same(paths('string(object) != ""')?.whole, ['object'], 'the object passed to a function: all of it');
  t.same(paths('object.spec.containers[0].image != ""')?.whole, ['object.spec.containers.[].image']);
});

t.test('a macro ranges over its list (every element, a map whole) and reads its body per element', async (t) => {
  t.same(paths('object.spec.containers.all(c, c.image != "app")'), {
    whole: ['object.spec.containers.[].image'],
    ranged: ['object.spec.containers'],
  });
  t.same(paths('object.spec.containers.filter(c, c.name == "a").all(c, c.image != "")'), {
    whole: ['object.spec.containers.[].image', 'object.spec.containers.[].name'],
    ranged: ['object.spec.containers', 'object.spec.containers'],
  });
  t.same(paths('cel.bind(s, object.spec, s.replicas > 1)'), { whole: ['object.spec.replicas'], ranged: [] });
  t.same(paths('[1, 2].all(object, object > 0)'), { whole: [], ranged: [] }, 'a bound name hides the variable it shadows');
  t.same(paths('container.?env.orValue([]).all(e, e.name != "S")'), { whole: ['container.env.[].name'], ranged: ['container.env'] });
});

t.test('asking whether there is an old object reads none of it; asking it of a field keeps the field', async (t) => {
  t.same(paths('oldObject == null'), { whole: [], ranged: [] });
  t.same(paths('object.spec.paused != null'), { whole: ['object.spec.paused'], ranged: [] });
});

t.test('a macro whose body is its variable keeps each element whole, whatever is then read of the result', async (t) => {
  t.same(paths('object.spec.containers.map(c, c)[0].image != ""'), {
    whole: ['object.spec.containers.[]'],
    ranged: ['object.spec.containers'],
  });
  t.same(paths('object.spec.paused.filter(p, p).size() > 0'), {
    whole: ['object.spec.paused', 'object.spec.paused.[]'],
    ranged: ['object.spec.paused'],
  });
  t.same(paths('object.spec.containers.map(c, c.name != "", c).size() > 0'), {
    whole: ['object.spec.containers.[]', 'object.spec.containers.[].name'],
    ranged: ['object.spec.containers'],
  });
});

t.test('shapes the walk does not follow are unknown, never an empty read', async (t) => {
  t.equal(paths('object.spec.containers.all(i, c, c.image != "")'), undefined, 'two iteration variables');
  t.equal(paths('object.spec.containers.exists(i, c, true)'), undefined, 'two iteration variables, whatever the body');
  t.equal(paths('object.spec.containers.map(c, object, c.name).size() > 0'), undefined, 'a filter that is a bare name');
  t.equal(paths('object.spec.containers.map(i, c, c.name, c.image).size() > 0'), undefined, 'more bodies than a map has');
});
