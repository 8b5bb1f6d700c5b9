/** A token bucket's state, kept on each connection. */
export interface MessageBudget {
  tokens: number;
  refilledAt: number;
}

/** A full budget: a client may send `perSecond` messages in a burst. */
export function fullBudget(perSecond: number, now: number): MessageBudget {
  return { tokens: perSecond, refilledAt: now };
}

/**
 * Takes one message from `budget`, refilled at `perSecond` up to `perSecond`;
 * false when the client is over its rate.
 */
export function takeMessage(budget: MessageBudget, perSecond: number, now: number): boolean {
  const elapsed = now - budget.refilledAt;
  if (elapsed > 0) {
    budget.tokens = Math.min(perSecond, budget.tokens + (elapsed * perSecond) / 1000);
    budget.refilledAt = now;
  }
  if (budget.tokens < 1) return false;
  budget.tokens -= 1;
  return true;
}
