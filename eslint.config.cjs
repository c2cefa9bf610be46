// ESLint (flat config): the layer boundaries of src/ (README "Code map") and the correctness rules
// for async TypeScript. `npm run lint`; `npm test` runs it first.
const { defineConfig } = require('eslint/config');
const tseslint = require('typescript-eslint');

/** Only the kubectl boundary starts processes. */
const SPAWNERS = {
  paths: ['execa', 'child_process', 'node:child_process'].map((name) => ({
    name,
    message: 'only src/kube/kubectl.ts starts processes: go through the Kubectl interface or runLocal',
    allowTypeImports: true,
  })),
};

/** One rule per layer: the import specifiers it may not use (value imports; `allowTypes`: types pass). */
function restrict(message, regex, allowTypes = false) {
  return { regex, message, allowTypeImports: allowTypes };
}

function boundary(files, ...patterns) {
  return {
    files,
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { ...SPAWNERS, patterns }] },
  };
}

module.exports = defineConfig(
  // test/cluster/ (the emulator) and bench/ are not linted: their own owners, and lint stays fast
  { ignores: ['build/**', 'dist/**', 'node_modules/**', 'bench/**', 'test/cluster/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // src/: no process starts but in the boundary; each folder imports only the layers below it
  boundary(['src/**/*.ts']),
  boundary(
    ['src/select/**/*.ts'],
    restrict('src/select/ is pure: from elsewhere it imports only types (and the text of src/remedies.ts)', '^(?!\\./|\\.\\./remedies$)', true),
  ),
  boundary(
    ['src/ui/**/*.ts'],
    restrict('src/ui/ must not import src/cli/', '^\\.\\./cli(/|$)'),
    restrict('src/ui/ may import only types from the engine (src/session/)', '^\\.\\./session(/|$)', true),
  ),
  boundary(['src/kube/**/*.ts'], restrict('src/kube/ is the kubectl boundary: it must not import src/ui, src/cli, src/session or src/select', '^\\.\\./(ui|cli|session|select)(/|$)')),
  boundary(['src/session/**/*.ts'], restrict('the engine (src/session/) must not import src/cli/ or src/ui/: it gets a Chooser and reports events', '^\\.\\./(cli|ui)(/|$)')),
  boundary(
    ['src/*.ts'],
    restrict('the modules at the root of src/ are leaves every layer imports: they import only types (and each other)', '^\\./(?!errors$|remedies$|version$)', true),
  ),
  { files: ['src/kube/kubectl.ts'], rules: { '@typescript-eslint/no-restricted-imports': 'off' } },
);
