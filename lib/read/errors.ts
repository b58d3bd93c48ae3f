import { OmniscientError } from '../errors.js'

/**
 * The store has no read-model storage (`store.readModels` is missing): declare the read model
 * `static storage = 'memory'`, or use a store that keeps read models (all built-in ones do).
 *
 * @example
 * catch (err) { if (err instanceof ReadModelStorageMissingError) console.error(err.model) }
 */
export class ReadModelStorageMissingError extends OmniscientError {
  constructor(readonly model: string) {
    super('READ_MODEL_STORAGE_MISSING', `read model "${model}": this store keeps no read models (no readModels()); declare static storage = 'memory' or use another store`)
  }
}

/**
 * `waitFor` gave up: the read model had not applied the position in time.
 *
 * @example
 * await model.waitFor(envelope, { timeoutMs: 1_000 }).catch((err) => { if (err instanceof WaitForTimeoutError) ... })
 */
export class WaitForTimeoutError extends OmniscientError {
  constructor(
    readonly model: string,
    readonly position: number,
    readonly reached: number,
    readonly timeoutMs: number,
  ) {
    super('WAIT_FOR_TIMEOUT', `read model "${model}" did not reach position ${position} within ${timeoutMs} ms (it is at ${reached})`)
  }
}

/**
 * `find` was asked for an index the read model does not declare in `static indexes`.
 *
 * @example
 * await follows.find('followerCount', { gte: 10 }) // UnknownIndexError unless declared
 */
export class UnknownIndexError extends OmniscientError {
  constructor(
    readonly model: string,
    readonly index: string,
    readonly declared: readonly string[],
  ) {
    super('UNKNOWN_INDEX', `read model "${model}" has no index "${index}" (declared: ${declared.length > 0 ? declared.join(', ') : 'none'}); add it to static indexes`)
  }
}

/**
 * The container was closed while `waitFor` waited (or before it was called): the read model or
 * projection stopped with it, and the position will not be reached in this container.
 *
 * @example
 * await model.waitFor(envelope).catch((err) => { if (err instanceof ContainerClosedError) return; throw err })
 */
export class ContainerClosedError extends OmniscientError {
  constructor(
    readonly model: string,
    readonly position: number,
  ) {
    super('CONTAINER_CLOSED', `"${model}": the container was closed while waiting for position ${position}`)
  }
}
