// The read side (`import ... from 'omniscient-actors/read'`), curated by hand.
export { ReadModel, type ReadModelStatics, type ReadModelProgress, type WaitForOptions } from './ReadModel.js'
export { Projection, type Derived, type ProjectionStatics } from './Projection.js'
export type { Progress, ProgressListener } from './Progress.js'
export { ContainerClosedError, ReadModelStorageMissingError, UnknownIndexError, WaitForTimeoutError } from './errors.js'
export type { IndexFunctions } from './DocumentBatch.js'
export { MemoryReadModelStorage } from '../store/memory/MemoryReadModelStorage.js'
export type {
  CommitOutcome,
  DocumentPage,
  DocumentWrite,
  FindOptions,
  IndexValue,
  ListOptions,
  ReadModelBatch,
  ReadModelInfo,
  ReadModelStorage,
  ReadModelStorageProvider,
} from './ReadModelStorage.js'
