// `omniscient-actors/sync/sqlite`: a RemoteStore's local copy in a SQLite file (Node only).
export { SqliteCopy } from './SqliteCopy.js'
