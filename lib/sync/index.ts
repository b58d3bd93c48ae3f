// `omniscient-actors/sync`: the client side of sync. No Node built-ins: runs in browsers too.
export { RemoteStore, type RemoteStoreOptions } from './RemoteStore.js'
export type { SyncStatus } from './SyncStatus.js'
export { MemoryCopy } from './local/MemoryCopy.js'
export { IndexedDbCopy } from './local/IndexedDbCopy.js'
export type { LocalCopy, QueuedAppend } from './local/LocalCopy.js'
export { SyncAccessError, SyncRequestError, SyncUnavailableError, type SyncAction } from './errors.js'
export type { Fetch } from './HttpClient.js'
export type { AppendRequest, AppendResponse, ErrorBody, LeaseRequest, LeaseResponse } from './protocol.js'
