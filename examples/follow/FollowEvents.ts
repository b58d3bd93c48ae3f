import { z } from 'zod'
import { defineEvents } from 'omniscient-actors'

/**
 * The seed's follow example: a user's stream (its id is the user name) records whom the user
 * follows (`Followed`, fired by the user) and who follows the user (`WasFollowed`, derived by
 * the FollowProjection, never fired by hand).
 */
export const FollowEvents = defineEvents({
  Followed: z.object({ user: z.string().min(1) }),
  WasFollowed: z.object({ by: z.string().min(1) }),
})
