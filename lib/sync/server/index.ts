// `omniscient-actors/sync-server`: the sync server, for Node (node:http, node:crypto).
export { serveSync, type Nobody, type SyncHandler, type SyncServerOptions } from './serveSync.js'
export type { SyncPermission } from './SyncAccess.js'
export { bearerTokens, MIN_TOKEN_LENGTH } from '../../auth/bearerTokens.js'
export { SyncAccessError, SyncRequestError, SyncUnavailableError, type SyncAction } from '../errors.js'
