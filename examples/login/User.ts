import { randomBytes } from 'node:crypto'
import { LiveActor, type AppliedEvent, type Container, type EventData } from 'omniscient-actors'
import { hashPassword, verifyPassword } from './password.js'
import { UserEvents } from './UserEvents.js'

type Events = typeof UserEvents

/** After this many wrong passwords within `TRY_PERIOD_MS`, the account is locked. */
export const MAX_TRIES = 3
export const TRY_PERIOD_MS = 15 * 60 * 1000

export interface UserState {
  username?: string
  passwordHash?: string
  logged_in: boolean
  too_many_tries: boolean
  invalid_password_tries_in_last_period: number
  /** When each recent wrong password was given (event time, so replay gives the same answer). */
  invalid_login_times: number[]
  total_paid: number
}

/** A person with a password and a credit card: the seed's User, live in every process. */
export class User extends LiveActor<Events, UserState> {
  static events = UserEvents

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.logged_in = false
    this._state.too_many_tries = false
    this._state.invalid_password_tries_in_last_period = 0
    this._state.invalid_login_times = []
    this._state.total_paid = 0
  }

  async SignUp(password: string): Promise<void> {
    if (this._state.username !== undefined) throw new Error(`user "${this.id}" already signed up`)
    await this.Fire('signup', { username: this.id, passwordHash: hashPassword(password) })
  }

  /** Resolves with a session token, or false when the password is wrong or the account locked. */
  async DoLoginAttempt(password: string, browserFingerprint: unknown): Promise<string | false> {
    if (this._state.too_many_tries) return false
    if (this._state.passwordHash !== undefined && verifyPassword(password, this._state.passwordHash)) {
      const token = randomBytes(16).toString('hex')
      await this.Fire('logged_in', { browserFingerprint, token })
      return token
    }
    await this.Fire('invalid_login', { browserFingerprint })
    if (this._state.invalid_password_tries_in_last_period >= MAX_TRIES) await this.Fire('too_many_tries')
    return false
  }

  async DoGetPayment(amount: number, currency = 'EUR'): Promise<void> {
    await this.Fire('payment_received', { amount, currency })
  }

  /* Event handlers follow: each is named after its event. */

  signup(data: EventData<Events, 'signup'>): void {
    this._state.username = data.username
    this._state.passwordHash = data.passwordHash
  }

  logged_in(): void {
    this._state.logged_in = true
    this._state.invalid_login_times = []
    this._state.invalid_password_tries_in_last_period = 0
  }

  invalid_login(_data: EventData<Events, 'invalid_login'>, event: AppliedEvent): void {
    const recent = this._state.invalid_login_times.filter((t) => event.at - t < TRY_PERIOD_MS)
    recent.push(event.at)
    this._state.invalid_login_times = recent
    this._state.invalid_password_tries_in_last_period = recent.length
    this._state.logged_in = false
  }

  too_many_tries(): void {
    this._state.too_many_tries = true
  }

  payment_received(data: EventData<Events, 'payment_received'>): void {
    this._state.total_paid += data.amount
  }
}
