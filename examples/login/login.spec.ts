// The login service, specified the way the seed writes tests: events in, events out, state.
import { Given } from 'omniscient-actors/testing'
import { hashPassword } from './password.js'
import { Player } from './Player.js'
import { TRY_PERIOD_MS, User } from './User.js'

const signedUp = { name: 'signup', data: { username: 'test', passwordHash: hashPassword('test') }, actor: User }

describe('the login example', () => {
  describe('User.DoLoginAttempt', () => {
    it('should log in a user who gives the right password', async () => {
      await Given('A user logs in for the first time', [signedUp])
        .When(User, 'DoLoginAttempt', 'test', {})
        .Then([{ name: 'logged_in', data: { browserFingerprint: {}, token: '{string}' } }])
        .AndState({ logged_in: true, invalid_password_tries_in_last_period: 0 })
    })

    it('should count a wrong password', async () => {
      await Given('a signed-up user', [signedUp])
        .When(User, 'DoLoginAttempt', 'nope', { ua: 'x' })
        .Then([{ name: 'invalid_login', data: { browserFingerprint: { ua: 'x' } } }])
        .AndState({ logged_in: false, invalid_password_tries_in_last_period: 1, too_many_tries: false })
    })

    it('should lock the account on the third wrong password in a period', async () => {
      await Given('two wrong passwords already', [signedUp, { name: 'invalid_login', data: { browserFingerprint: {} } }, { name: 'invalid_login', data: { browserFingerprint: {} } }])
        .When(User, 'DoLoginAttempt', 'nope', {})
        .Then([{ name: 'invalid_login', data: { browserFingerprint: {} } }, { name: 'too_many_tries' }])
        .AndState({ too_many_tries: true, invalid_password_tries_in_last_period: 3 })
    })

    it('should refuse even the right password once locked, firing nothing', async () => {
      await Given('a locked account', [signedUp, { name: 'too_many_tries' }])
        .When(User, 'DoLoginAttempt', 'test', {})
        .Then([])
        .AndState({ logged_in: false, too_many_tries: true })
    })

    it('should forget wrong passwords older than the period', async () => {
      const longAgo = { name: 'invalid_login', data: { browserFingerprint: {} }, at: 0 }
      await Given('two wrong passwords long ago', [signedUp, longAgo, longAgo], { now: TRY_PERIOD_MS + 1 })
        .When(User, 'DoLoginAttempt', 'wrong again', {})
        .Then([{ name: 'invalid_login', data: { browserFingerprint: {} } }])
        .AndState({ invalid_password_tries_in_last_period: 1, too_many_tries: false })
    })
  })

  describe('Player, sharing the user id', () => {
    it('should gain a life for each full price paid, keeping the rest as credit', async () => {
      await Given('a user who paid twice', [signedUp, { name: 'payment_received', data: { amount: 4, currency: 'EUR' } }, { name: 'payment_received', data: { amount: 7, currency: 'EUR' } }])
        .When(Player, 'Die', 'spikes')
        .Then([{ name: 'life_lost', data: { cause: 'spikes' } }])
        .AndState({ lives: 1, credit: 1, deaths: 1 })
    })

    it('should refuse to die without a life', async () => {
      await Given('a user who never paid', [signedUp])
        .When(Player, 'Die', 'spikes')
        .ThenThrows(/no life left/)
        .AndState({ lives: 0 })
    })
  })
})
