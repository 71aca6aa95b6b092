// Lint configuration: typescript-eslint's recommended rules over all sources, and DESIGN.md's table of allowed imports between rooms.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', '.scratch/**', 'bench/.work/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...roomImportRules(),
);

/**
 * DESIGN.md's table: events imports nothing of ours; config only events; pipeline only events and config; connectors
 * only the public faces of events, config and pipeline (and never a sibling connector); portal and ops reach other
 * rooms only through their index.ts. Tests, benchmarks and examples may reach internals.
 */
function roomImportRules() {
  const rooms = ['events', 'config', 'pipeline', 'connectors', 'portal', 'ops'];
  const into = (names) => `^(\\.\\./)+(${names.join('|')})/`;
  const pastIndex = (names) => `${into(names)}(?!index\\.ts$)`;
  const rule = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });
  const forbid = (names, why) => ({ regex: into(names), message: why });
  const faces = (names) => ({ regex: pastIndex(names), message: 'import another room only through its index.ts (DESIGN.md)' });
  const others = (self) => rooms.filter((r) => r !== self);
  return [
    rule(['events/**/*.ts'], [forbid(others('events'), 'events/ imports nothing of ours (DESIGN.md)')]),
    rule(['config/**/*.ts'], [forbid(['pipeline', 'connectors', 'portal', 'ops'], 'config/ may import only events/ (DESIGN.md)'), faces(['events'])]),
    rule(['pipeline/**/*.ts'], [forbid(['connectors', 'portal', 'ops'], 'pipeline/ may import only events/ and config/ (DESIGN.md)'), faces(['events', 'config'])]),
    rule(['connectors/**/*.ts'], [forbid(['portal', 'ops'], 'connectors/ may import only the public faces of events/, config/ and pipeline/ (DESIGN.md)'), faces(['events', 'config', 'pipeline'])]),
    rule(['connectors/*/**/*.ts'], [
      forbid(['portal', 'ops'], 'connectors/ may import only the public faces of events/, config/ and pipeline/ (DESIGN.md)'),
      faces(['events', 'config', 'pipeline']),
      { regex: '^\\.\\./(?!\\.\\.)[^/]+/', message: 'a connector is self-contained: it never imports a sibling connector' },
      { regex: '^\\.\\./index\\.ts$', message: 'a connector never imports the registry' },
    ]),
    rule(['portal/**/*.ts'], [faces(others('portal'))]),
    // ops/ lists the connectors' commands from their cheap declarations (connectors/commands.ts) without loading the registry.
    rule(['ops/**/*.ts'], [
      faces(others('ops').filter((r) => r !== 'connectors')),
      { regex: `${into(['connectors'])}(?!(index|commands)\\.ts$)`, message: 'import connectors/ only through its index.ts (or commands.ts for command declarations) (DESIGN.md)' },
    ]),
  ];
}
