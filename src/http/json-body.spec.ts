import { jsonShapeProblem, numberProblem } from './json-body';

const scan = (text: string, depth = 32) => jsonShapeProblem(Buffer.from(text), depth);

describe('jsonShapeProblem', () => {
  it('accepts documents within the depth limit, whatever their strings hold', () => {
    expect(scan('{"a":[1,2,{"b":"[[[[{{{{\\\\\\""}]}')).toBeUndefined();
    expect(scan('[[[1]]]', 3)).toBeUndefined();
  });

  it('refuses nesting past the limit, stopping at the first level too deep', () => {
    expect(scan('[[[[1]]]]', 3)).toBe('nested deeper than 3 levels');
    // Unbalanced, and six million bytes long: found within the first levels all the same.
    const hostile = Buffer.alloc(6_000_000, '[');
    expect(jsonShapeProblem(hostile, 32)).toBe('nested deeper than 32 levels');
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(scan(`{"a":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`, 2)).toBeUndefined();
    expect(scan('{"a":"\\\\"}', 1)).toBeUndefined();
  });

  it('refuses numbers that would not be kept, and only those', () => {
    expect(scan('{"n":1e400}')).toBe('number 1e400 is too large to be kept');
    expect(scan('[9007199254740993]')).toBe('number 9007199254740993 is past 2^53 and would not be kept exactly');
    expect(scan('[9007199254740991, -9007199254740991, 1e20, 0.1, 1.5e-300, 0, -0.0, 123.456]')).toBeUndefined();
    expect(scan('["1e400"]')).toBeUndefined();
  });
});

describe('numberProblem', () => {
  it.each([
    ['1e400', 'too large'],
    ['-1e400', 'too large'],
    ['1e-400', 'too small'],
    ['9007199254740993', 'past 2^53'],
    ['-9007199254740993', 'past 2^53'],
    ['9007199254740993.0', 'past 2^53'],
    ['1.00000000000000000001', 'more digits'],
  ])('%s is refused (%s)', (token, reason) => {
    expect(numberProblem(token)).toContain(reason);
  });

  it.each(['0', '-0', '0.0', '1e20', '-1e20', '9007199254740992', '1.7976931348623157e308', '5e-324', '0.30000000000000004', '100000000000000000000.000'])(
    '%s is kept exactly',
    (token) => {
      expect(numberProblem(token)).toBeUndefined();
    },
  );
});
