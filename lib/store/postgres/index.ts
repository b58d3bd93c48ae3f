// `omniscient-actors/postgres`: the PostgreSQL adapter (needs the `pg` package).
export { PgStore, type PgStoreOptions } from './PgStore.js'
