import { DriverMissingError } from '../../errors.js'

/**
 * Loads an engine's driver, an optional peer dependency, with `require` (the drivers are
 * CommonJS; pass `createRequire(import.meta.url)`). A driver that is not installed fails with
 * one line that says what to install (DriverMissingError), where a static import would fail
 * with a module-resolution trace before any of the package's code runs. Any other failure
 * (the driver is there but broken, or one of its own dependencies is missing) is rethrown.
 *
 * @example
 * export const pg = requireDriver<typeof Pg>(createRequire(import.meta.url), 'pg', 'omniscient-actors/postgres')
 */
export function requireDriver<T>(require: (id: string) => unknown, driver: string, entryPoint: string): T {
  try {
    return require(driver) as T
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown }
    if (e.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.startsWith(`Cannot find module '${driver}'`)) {
      throw new DriverMissingError(driver, entryPoint)
    }
    throw err
  }
}
