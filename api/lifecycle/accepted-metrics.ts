import { counter } from "../../common/metrics/registry.ts";

/**
 * Counts a newly stored bet and its stake on the node that placed it
 * (`tap_bets_accepted_total`, `tap_stakes_cents_total`): on SQLite the one
 * node, on PostgreSQL each api node its own, so the sum over nodes is every
 * bet once, whichever node settles, and a settler taking over counts nothing
 * again. A retry answered from an earlier bet is not placed, so not counted.
 *
 * ```ts
 * const countAccepted = acceptedBetCounter();
 * countAccepted(bet); // bet.stake_cents 500: accepted +1, stakes +500
 * ```
 */
export function acceptedBetCounter(): (bet: { stake_cents: number }) => void {
  const accepted = counter({ name: "tap_bets_accepted_total", help: "Bets accepted: stored (debit and bet committed) by this node." });
  const stakes = counter({ name: "tap_stakes_cents_total", help: "Stakes of the bets this node accepted, in cents." });
  return (bet) => {
    accepted.inc();
    stakes.inc(bet.stake_cents);
  };
}
