// ESLint 9 flat config: typescript-eslint's recommended rules everywhere (syntax-only, no type information,
// so the lint stays fast), the React hooks rules in the renderer, and the right globals per side.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'release/', 'node_modules/', 'test-results/', '.dg-data/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `any` (and `as any`) switches the type checker off; say what the value is, or `unknown` and narrow it.
      '@typescript-eslint/no-explicit-any': 'error',
      // The code base marks a binding it keeps on purpose (a skipped tuple slot, a field split off) with a leading underscore.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    // The classic two rules: the React Compiler's stricter set also flags loading data in an effect,
    // which these pages do on purpose (queries are the truth; events only say when to re-query).
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['electron/**', 'migrations/**', 'tests/**', 'scripts/**', '*.{js,cjs,mjs,ts}'],
    languageOptions: { globals: globals.node },
  },
);
