import { Type as t } from "@sinclair/typebox";
import { ConfigError, envVar, loadConfig } from "../../common/config.ts";
import { DEFAULT_MAX_DEVIATION_BPS, DEFAULT_MIN_VENUES, DEFAULT_STALE_MS } from "../index/mod.ts";
import { type VenueName, venueNames } from "./protocol.ts";

const spec = {
  staleMs: envVar({ name: "PRICE_VENUE_STALE_MS", schema: t.Integer({ minimum: 100, maximum: 60_000 }), fallback: DEFAULT_STALE_MS }),
  maxDeviationBps: envVar({ name: "PRICE_MAX_DEVIATION_BPS", schema: t.Number({ exclusiveMinimum: 0, maximum: 10_000 }), fallback: DEFAULT_MAX_DEVIATION_BPS }),
  minVenues: envVar({ name: "PRICE_MIN_VENUES", schema: t.Integer({ minimum: 1, maximum: venueNames.length }), fallback: DEFAULT_MIN_VENUES }),
};

/**
 * The venues' settings: which venues, where, and the index's limits (docs/price-index.md).
 *
 * ```ts
 * const config: VenueConfig = { venues: ["coinbase", "kraken"], urls: { kraken: "ws://127.0.0.1:9001" }, staleMs: 2000, maxDeviationBps: 50, minVenues: 2 };
 * ```
 */
export interface VenueConfig {
  /** The venues indexed (`PRICE_VENUES`), each once, in the order listed. */
  venues: VenueName[];
  /** `PRICE_VENUE_URL_<NAME>` where given; the venue's documented URL otherwise. */
  urls: Partial<Record<VenueName, string>>;
  /** `PRICE_VENUE_STALE_MS`, `PRICE_MAX_DEVIATION_BPS`, `PRICE_MIN_VENUES`: see `CompositeIndexOptions`. */
  staleMs: number;
  maxDeviationBps: number;
  minVenues: number;
}

const isVenue = (name: string): name is VenueName => (venueNames as readonly string[]).includes(name);

/**
 * Reads `PRICE_VENUES` (a comma list, every known venue by default), the
 * `PRICE_VENUE_URL_<NAME>` overrides and the index's limits, throwing a
 * `ConfigError` that names the variable: an unknown venue, a URL that is not
 * ws:// or wss://, an override for a venue not in the list, or a quorum larger
 * than the list.
 *
 * ```ts
 * readVenueConfig({ PRICE_VENUES: "coinbase,kraken", PRICE_VENUE_URL_KRAKEN: "ws://127.0.0.1:9001" });
 * ```
 */
export function readVenueConfig(env: Record<string, string | undefined>): VenueConfig {
  const limits = loadConfig(spec, env);
  const listed = env.PRICE_VENUES?.trim();
  const venues: VenueName[] = [];
  for (const raw of listed ? listed.split(",") : venueNames) {
    const name = raw.trim().toLowerCase();
    if (!isVenue(name)) throw new ConfigError("PRICE_VENUES", listed, `unknown venue ${JSON.stringify(name)}; known: ${venueNames.join(", ")}`);
    if (!venues.includes(name)) venues.push(name);
  }
  const urls: Partial<Record<VenueName, string>> = {};
  for (const [variable, value] of Object.entries(env)) {
    const match = /^PRICE_VENUE_URL_([A-Z0-9_]+)$/.exec(variable);
    if (!match || value === undefined || value.trim() === "") continue;
    const name = (match[1] as string).toLowerCase();
    if (!isVenue(name)) throw new ConfigError(variable, value, `no venue named ${JSON.stringify(name)}; known: ${venueNames.join(", ")}`);
    if (!/^wss?:\/\/[^\s]+$/.test(value.trim())) throw new ConfigError(variable, value, "must be a ws:// or wss:// URL");
    urls[name] = value.trim();
  }
  if (limits.minVenues > venues.length) {
    throw new ConfigError("PRICE_MIN_VENUES", String(limits.minVenues), `is more than the ${venues.length} venue(s) in PRICE_VENUES`);
  }
  return { venues, urls, ...limits };
}
