// The package's main entry point (`import ... from 'omniscient-actors'`): the core's public
// names, listed once in lib/index.ts, and the actors', listed once in actors/index.ts.
export * from './lib/index.js'
export * from './actors/index.js'
