import { z } from 'zod'
import { defineEvents } from 'omniscient-actors'

/** Payments concern users and players alike, so both classes declare this definition. */
export const paymentEvents = {
  payment_received: z.object({ amount: z.number().positive(), currency: z.string().length(3) }),
}

export const UserEvents = defineEvents({
  signup: z.object({ username: z.string().min(1), passwordHash: z.string().regex(/^[0-9a-f]+:[0-9a-f]+$/) }),
  logged_in: z.object({ browserFingerprint: z.unknown(), token: z.string() }),
  invalid_login: z.object({ browserFingerprint: z.unknown() }),
  too_many_tries: z.undefined(),
  ...paymentEvents,
})
