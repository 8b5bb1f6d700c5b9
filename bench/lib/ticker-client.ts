/**
 * One Coinbase ticker client of bench/ccxt-latency.ts, run as a child process
 * so its CPU and memory are read apart: either ours (the production adapter
 * and connection, `protocolFor("coinbase")` through `connectVenue`) or ccxt's
 * (`ccxt.pro.coinbaseexchange` with `urls.api.ws` at the double, a loop of
 * `await watchTicker("BTC/USD")`). Both hand each quote to a composite index,
 * and the time the index has observed it is the time recorded.
 *
 *   bun bench/lib/ticker-client.ts ours <ws url>
 *   bun bench/lib/ticker-client.ts ccxt <ws url> <folder where ccxt is installed>
 *
 * Stdout: `{"type":"started"}` once the client is connecting; on a line
 * `report` on stdin, `{"type":"report","seen":[[last price, epoch ms], …]}`
 * with every quote observed, then it exits.
 */
import { createLogger } from "../../common/log.ts";
import { createCompositeIndex } from "../../price/index/mod.ts";
import { connectVenue } from "../../price/venues/connection.ts";
import { protocolFor } from "../../price/venues/mod.ts";
import type { VenueQuote } from "../../price/venues/protocol.ts";

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
const preciseNow = () => performance.timeOrigin + performance.now();

/** The market ccxt would otherwise fetch over REST (`loadMarkets`), which the double does not serve. */
const BTC_USD_MARKET = {
  id: "BTC-USD",
  symbol: "BTC/USD",
  base: "BTC",
  quote: "USD",
  baseId: "BTC",
  quoteId: "USD",
  type: "spot",
  spot: true,
  active: true,
  precision: { amount: 1e-8, price: 0.01 },
  limits: { amount: {}, price: {}, cost: {} },
};

if (import.meta.main) await main();

async function main() {
  const [kind, url, ccxtDir] = process.argv.slice(2);
  if (!url) throw new TypeError("usage: ticker-client.ts ours|ccxt <ws url> [ccxt folder]");
  const index = createCompositeIndex({ venues: ["coinbase"], minVenues: 1 });
  // Preallocated so recording costs the same on both sides and allocates nothing per quote.
  const seenPrice = new Float64Array(1 << 16);
  const seenAt = new Float64Array(1 << 16);
  let seen = 0;
  const observe = (quote: VenueQuote) => {
    index.observe(quote);
    const at = preciseNow();
    if (seen < seenAt.length) {
      seenPrice[seen] = quote.last ?? Number.NaN;
      seenAt[seen++] = at;
    }
  };

  let stop: () => void;
  switch (kind) {
    case "ours": {
      const log = createLogger({ component: "price", level: "warn", sink: { write: (line: string) => void process.stderr.write(line) } });
      const connection = connectVenue({ protocol: protocolFor("coinbase"), url, onQuote: observe, staleMs: 2000, log });
      stop = () => connection.close();
      break;
    }
    case "ccxt": {
      if (!ccxtDir) throw new TypeError("ccxt needs the folder it is installed in");
      const { default: ccxt } = (await import(Bun.resolveSync("ccxt", ccxtDir))) as { default: CcxtModule };
      const exchange = new ccxt.pro.coinbaseexchange({ urls: { api: { ws: url } } });
      exchange.setMarkets([BTC_USD_MARKET]);
      // ccxt refuses a plain ws:// URL (the double's; Coinbase's is wss://) until this is called; Bun's WebSocket ignores the agent.
      await exchange.loadHttpProxyAgent();
      let running = true;
      void (async () => {
        while (running) {
          const ticker = await exchange.watchTicker("BTC/USD");
          observe({ venue: "coinbase", bid: ticker.bid, ask: ticker.ask, last: ticker.last, venueTs: ticker.timestamp, receivedAt: Date.now() });
        }
      })().catch((error: unknown) => {
        process.stderr.write(`ccxt watchTicker failed: ${String(error)}\n`);
        process.exit(1);
      });
      stop = () => {
        running = false;
        void exchange.close();
      };
      break;
    }
    default:
      throw new TypeError(`unknown client ${JSON.stringify(kind)}: ours or ccxt`);
  }
  console.log(JSON.stringify({ type: "started" }));
  for await (const line of console) if (line.trim() === "report") break;
  stop();
  const pairs: [number, number][] = [];
  for (let i = 0; i < seen; i++) pairs.push([seenPrice[i]!, seenAt[i]!]);
  console.log(JSON.stringify({ type: "report", seen: pairs }));
  process.exit(0);
}

/** The part of ccxt's module this client uses. */
interface CcxtModule {
  pro: {
    coinbaseexchange: new (config: object) => {
      setMarkets(markets: object[]): void;
      loadHttpProxyAgent(): Promise<unknown>;
      watchTicker(symbol: string): Promise<{ bid: number; ask: number; last: number; timestamp: number }>;
      close(): Promise<void>;
    };
  };
}
