/**
 * A promise rejected with exactly what was thrown, for a hot-path function written without
 * `async` (to save a promise) that must still reject rather than throw, as `async` would.
 */
export function rejected(err: unknown): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passing on what was caught, unchanged
  return Promise.reject(err)
}
