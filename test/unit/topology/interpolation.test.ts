import { interpolate } from '../../../topology/interpolation';

describe('${VAR} interpolation', () => {
  const env = { HOST: 'kafka', EMPTY: '', PORT: '9092' };

  test.each([
    ['no variables', 'plain text', 'plain text', false],
    ['a set variable', '${HOST}', 'kafka', true],
    ['variables within text', '${HOST}:${PORT}', 'kafka:9092', true],
    ['a default for an unset variable', '${MISSING:-fallback}', 'fallback', true],
    ['a default for an empty variable', '${EMPTY:-fallback}', 'fallback', true],
    ['an empty variable without a default stays empty', 'x${EMPTY}y', 'xy', true],
    ['an empty default', '${MISSING:-}', '', true],
    ['a default holding :- and $', '${MISSING:-a:-b$c}', 'a:-b$c', true],
    ['$$ is a literal $', 'pa$$${HOST}', 'pa$kafka', true],
    ['$${...} is the text ${...}', '$${HOST}', '${HOST}', false],
    ['a lone $ is itself', 'cost: 5$ or $x', 'cost: 5$ or $x', false],
  ])('%s', (_what, text, value, substituted) => {
    expect(interpolate(text, env)).toEqual({ ok: true, value, substituted });
  });

  test('an unset variable without a default, an unclosed reference and a bad name are refused', () => {
    expect(interpolate('${NOPE}', env)).toEqual({ ok: false, message: 'environment variable NOPE is not set: set it, or write ${NOPE:-<default>} in the topology' });
    expect(interpolate('${HOST', env)).toMatchObject({ ok: false, message: expect.stringContaining("without its closing '}'") as unknown });
    expect(interpolate('${A-B}', env)).toMatchObject({ ok: false, message: expect.stringContaining('does not name an environment variable') as unknown });
  });
});
