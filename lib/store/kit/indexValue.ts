import type { FindOptions, IndexValue } from '../../read/ReadModelStorage.js'

// Index values are stored as text whose byte order is the value order, so one column (and one
// database index) serves numbers and strings on every engine: numbers sort before strings,
// numbers by value, strings by their UTF-8 bytes.

const view = new DataView(new ArrayBuffer(8))

/** The stored text of an index value; undefined (and NaN) leave the document out of the index. */
export function encodeIndexValue(value: IndexValue): string | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') return `s${value}`
  if (Number.isNaN(value)) return undefined
  view.setFloat64(0, value === 0 ? 0 : value) // -0 and 0 are one value
  let hi = view.getUint32(0)
  let lo = view.getUint32(4)
  // IEEE 754 doubles sort as integers once negatives have all bits flipped and positives the sign bit.
  if (hi & 0x80000000) {
    hi = ~hi >>> 0
    lo = ~lo >>> 0
  } else {
    hi = (hi | 0x80000000) >>> 0
  }
  return `n${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}`
}

/** A range of encoded values (inclusive/exclusive bounds) from `find`'s options. */
export interface EncodedRange {
  readonly lower?: { readonly value: string; readonly inclusive: boolean }
  readonly upper?: { readonly value: string; readonly inclusive: boolean }
}

function bound(value: string | number): string {
  const encoded = encodeIndexValue(value)
  if (encoded === undefined) throw new RangeError('an index bound cannot be NaN')
  return encoded
}

/** The encoded range `find` selects. */
export function encodedRange(options: FindOptions): EncodedRange {
  if (options.eq !== undefined) {
    const value = bound(options.eq)
    return { lower: { value, inclusive: true }, upper: { value, inclusive: true } }
  }
  const lower = options.gt !== undefined ? { value: bound(options.gt), inclusive: false } : options.gte !== undefined ? { value: bound(options.gte), inclusive: true } : undefined
  const upper = options.lt !== undefined ? { value: bound(options.lt), inclusive: false } : options.lte !== undefined ? { value: bound(options.lte), inclusive: true } : undefined
  return { ...(lower ? { lower } : {}), ...(upper ? { upper } : {}) }
}

/** The cursor of a `find` page: the last (value, key) returned. */
export function findCursor(value: string, key: string): string {
  return JSON.stringify([value, key])
}

/** Reads a `find` cursor back. */
export function parseFindCursor(cursor: string): { value: string; key: string } {
  const parsed: unknown = JSON.parse(cursor)
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') throw new RangeError(`not a find() cursor: ${cursor}`)
  return { value: parsed[0], key: parsed[1] }
}

/** Code-point order of two strings, which is their UTF-8 byte order (how the databases compare them). */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const x = a.codePointAt(i)!
    const y = b.codePointAt(j)!
    if (x !== y) return x < y ? -1 : 1
    i += x > 0xffff ? 2 : 1
    j += y > 0xffff ? 2 : 1
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0
}
