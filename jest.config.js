const jestJupyterLab = require('@jupyterlab/testutils/lib/jest-config');

// ESM-only packages that babel must transform for jest (besides JupyterLab's own list).
const esModules = [
  '@codemirror',
  '@jupyter/ydoc',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyterlab/',
  '@microsoft',
  'exenv-es6',
  'jose',
  'lib0',
  'nanoid',
  'pkce-challenge',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  collectCoverageFrom: ['src/**/*.{ts,tsx}', '!src/**/*.d.ts', '!src/**/.ipynb_checkpoints/*'],
  coverageReporters: ['lcov', 'text'],
  reporters: ['default'],
  setupFiles: [...baseConfig.setupFiles, '<rootDir>/test/setup.js'],
  setupFilesAfterEnv: [...(baseConfig.setupFilesAfterEnv ?? []), '<rootDir>/test/after-env.js'],
  testRegex: 'test/.*\\.spec\\.tsx?$',
  testEnvironment: '<rootDir>/test/jest-env.js',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
