// The core's public surface, named one by one: the package's main entry point (index.ts)
// exports these and the actors' (actors/index.ts), and nothing else of the core. Helpers the
// actors share with the core (findDefinition, Mailbox, startListener...) are imported from
// their own files, so that they stay off this list.
export {
  OmniscientError,
  ConcurrencyError,
  EventValidationError,
  UnknownEventError,
  StorageError,
  IdempotencyError,
  SnapshotCorruptError,
  HandlerError,
  LeaseLostError,
  PreconditionFailedError,
  ProposalRejectedError,
  ProposalTimeoutError,
  InvalidArgumentError,
  InvalidOptionsError,
  UnserializableDataError,
  EventDecodeError,
  SnapshotInvalidError,
  OutageError,
  DriverMissingError,
  isOmniscientError,
  isConcurrencyError,
  StoreClosedError,
  isStoreClosedError,
  MisspeltHandlerError,
  type EventIssue,
} from './errors.js'
export type { AppliedEvent, DomainEvent, EventEnvelope, EventMeta, NewEvent } from './envelope.js'
export {
  defineEvents,
  type AnyEventCatalog,
  type EventCatalog,
  type EventData,
  type EventDefinition,
  type EventInput,
  type EventName,
  type EventSpec,
  type EventSpecObject,
  type Upcaster,
} from './events.js'
export type { Handlers } from './handlers.js'
export { EventBus, type BusListener, type Unsubscribe } from './EventBus.js'
export { ManualClock, systemClock, type Clock } from './Clock.js'
export { randomIds, sequentialIds, type IdGenerator } from './ids.js'
export { ActorRegistry, type ActorRegistryOptions, type RegistrableActor } from './ActorRegistry.js'
export { createContainer, type Container, type ContainerOptions, type ErrorReporter } from './Container.js'
export type {
  AppendOptions,
  AppendResult,
  ExpectedVersion,
  LeaseState,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StorageAdapter,
} from './store/StorageAdapter.js'
export type { CheckpointState, ListStreamsOptions, StoreCatalog, StreamInfo } from './store/StoreCatalog.js'
export type { SubscribeOptions, Subscription, SubscriptionHandler } from './store/Subscription.js'
export { MemoryStore } from './store/memory/MemoryStore.js'
export { MAX_ID_BYTES } from './store/kit/arguments.js'
export { MAX_DATA_DEPTH } from './safeData.js'
export type { ListenHandler, ListenOptions, ListenTarget, Listener } from './listeners/Listener.js'
export type { StuckStatus } from './listeners/Outage.js'
export { useOpenTelemetry } from './telemetry/useOpenTelemetry.js'
export type { OpenTelemetryApi } from './telemetry/OpenTelemetryApi.js'
