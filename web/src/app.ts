import type { BetRequest } from "../../common/contracts/bet.ts";
import type { Tick } from "../../common/contracts/price.ts";
import { type BetOutcome, fetchPriceHistory } from "./api-client.ts";
import { type BetBook, createBetBook, type LatestBet } from "./bet-book.ts";
import { createChartView } from "./chart-view.ts";
import { formatBand, formatChange, formatClock, formatPrice, formatStake } from "./format.ts";
import { DEFAULT_GRID, type GridSpec } from "./grid-model.ts";
import { createGridView } from "./grid-view.ts";
import type { KeyValueStore } from "./guest-id.ts";
import { type ConnState, connectPriceFeed, type SocketLike } from "./price-feed.ts";
import { createPriceSeries } from "./price-series.ts";
import { type BoardLayout, boardLayout, createPriceFollower, scalesFor } from "./scales.ts";
import { createServerClock } from "./server-clock.ts";
import { drawSparkline } from "./sparkline.ts";
import { createStakePicker } from "./stakes.ts";

/** Everything the page takes from the browser, so a test could hand in fakes. */
export interface AppDeps {
  root: HTMLElement;
  wsUrl: string;
  userId: string;
  store: KeyValueStore | undefined;
  sendBet: (request: BetRequest) => Promise<BetOutcome>;
  fetchHistory?: typeof fetchPriceHistory;
  openSocket?: (url: string) => SocketLike;
  spec?: GridSpec;
  /** How much history the header line and the change cover. */
  historyMs?: number;
}

const element = <T extends Element>(root: ParentNode, selector: string): T => {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`page is missing ${selector}`);
  return found;
};

/**
 * Starts the page: history from `/api/prices`, live ticks from `/ws`, the chart
 * and the grid redrawn each animation frame, bets through `sendBet`.
 */
export function startApp({ root, wsUrl, userId, store, sendBet, fetchHistory = fetchPriceHistory, openSocket, spec = DEFAULT_GRID, historyMs = 5 * 60_000 }: AppDeps) {
  const priceEl = element<HTMLOutputElement>(root, "[data-testid=price]");
  const staleEl = element<HTMLElement>(root, "[data-testid=stale]");
  const changeEl = element<HTMLElement>(root, "[data-testid=change]");
  const connEl = element<HTMLElement>(root, "[data-testid=conn]");
  const statusEl = element<HTMLElement>(root, "[data-testid=bet-status]");
  const board = element<HTMLElement>(root, ".board");
  const pausedEl = element<HTMLElement>(root, ".paused");
  const gridEl = element<HTMLElement>(root, ".grid");
  const sparkEl = element<HTMLCanvasElement>(root, ".spark-canvas");
  const highEl = element<HTMLElement>(root, ".stat-high");
  const lowEl = element<HTMLElement>(root, ".stat-low");

  const clock = createServerClock();
  const series = createPriceSeries();
  const book: BetBook = createBetBook({ userId, send: sendBet });
  const chart = createChartView(element<HTMLCanvasElement>(root, ".chart"));
  const grid = createGridView({
    container: gridEl,
    spec,
    onTap: (cell) => {
      void book.place(cell, stakes.stake());
    },
  });
  const stakes = createStakePicker(element<HTMLFieldSetElement>(root, ".stakes"), store, (stake) => {
    gridEl.style.setProperty("--stake-label", JSON.stringify(formatStake(stake)));
  });

  let conn: ConnState = "reconnecting";
  /** The newest tick received live, and when (local clock): staleness is judged on both. */
  let lastLive: { tick: Tick; receivedAt: number } | undefined;
  let tickGapMs = 1000;
  let shownStale: boolean | undefined;
  let firstLiveMarked = false;
  let gapFrom: number | undefined;

  const staleAfterMs = () => Math.max(3000, tickGapMs * 3);
  const isStale = (now: number) => {
    if (conn !== "live" || !lastLive) return true;
    return performance.now() - lastLive.receivedAt > staleAfterMs() || now - lastLive.tick.ts > staleAfterMs() + 2000;
  };

  const showPrice = (tick: Tick, previous: Tick | undefined) => {
    priceEl.textContent = formatPrice(tick.price);
    if (previous && previous.price !== tick.price) priceEl.dataset.dir = tick.price > previous.price ? "up" : "down";
    const first = series.between(tick.ts - historyMs, tick.ts)[0];
    if (first && first !== tick) {
      const change = tick.price - first.price;
      changeEl.textContent = `${formatChange(change, first.price)} · 5m`;
      changeEl.dataset.dir = change >= 0 ? "up" : "down";
    }
  };

  const loadHistory = async (from: number) => {
    try {
      const ticks = await fetchHistory({ from, to: clock.now() + 1000 });
      for (const tick of ticks) series.add(tick);
    } catch {
      // The live feed still works; the chart simply starts shorter.
    }
  };

  const setConn = (state: ConnState) => {
    conn = state;
    connEl.textContent = state;
    connEl.dataset.state = state;
    if (state !== "live" && gapFrom === undefined) gapFrom = series.last()?.ts;
  };

  const feed = connectPriceFeed({
    url: wsUrl,
    ...(openSocket ? { openSocket } : {}),
    isOnline: () => navigator.onLine,
    onState: setConn,
    onPong: (sentAt, serverTs, receivedAt) => clock.observe(sentAt, serverTs, receivedAt),
    onResumed: () => {
      // Ticks published while the socket was down come from the history.
      if (gapFrom !== undefined) void loadHistory(gapFrom + 1);
      gapFrom = undefined;
    },
    onTick: (tick) => {
      const previous = lastLive?.tick;
      const receivedAt = performance.now();
      if (previous && tick.ts > previous.ts && tick.ts - previous.ts < 60_000) {
        tickGapMs = tickGapMs * 0.8 + (tick.ts - previous.ts) * 0.2;
      }
      if (!previous || tick.ts >= previous.ts) lastLive = { tick, receivedAt };
      series.add(tick);
      if (lastLive?.tick === tick) showPrice(tick, previous);
    },
  });
  setConn("reconnecting");
  void loadHistory(clock.now() - historyMs);

  window.addEventListener("online", () => feed.retryNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") feed.retryNow();
  });

  let layout: BoardLayout = boardLayout(board.clientWidth, board.clientHeight);
  const resize = () => {
    layout = boardLayout(board.clientWidth, board.clientHeight);
    chart.resize(layout, window.devicePixelRatio || 1);
    gridEl.style.left = `${layout.nowX}px`;
    gridEl.style.width = `${layout.plotWidth - layout.nowX}px`;
    gridEl.style.height = `${layout.plotHeight}px`;
  };
  new ResizeObserver(resize).observe(board);
  resize();

  const follower = createPriceFollower();
  let center = Number.NaN;
  let lastFrameAt = performance.now();
  let lastSparkAt = 0;
  let statusVersion = -1;

  const frame = () => {
    const frameAt = performance.now();
    const dt = Math.min(100, frameAt - lastFrameAt);
    lastFrameAt = frameAt;
    const now = clock.now();
    const stale = isStale(now);
    const price = lastLive?.tick.price ?? series.last()?.price;

    if (stale !== shownStale) {
      shownStale = stale;
      priceEl.dataset.stale = String(stale);
      staleEl.hidden = !stale || price === undefined;
      pausedEl.hidden = !stale;
      pausedEl.textContent = conn === "live" ? "Prices paused — no fresh price" : `Prices paused — ${conn}…`;
      if (!stale && !firstLiveMarked) {
        firstLiveMarked = true;
        performance.mark("tap:first-live-price");
      }
    }

    if (price !== undefined) {
      const halfRange = layout.plotHeight / 2 / (layout.rowHeight / spec.bandSize);
      center = follower.follow({ price, halfRange, dtMs: dt, hold: grid.pointing() });
    }
    const scales = scalesFor(layout, spec, now, Number.isFinite(center) ? center : 0);
    const from = scales.timeAt(0);
    book.forgetBefore(from - spec.columnMs);
    chart.draw({
      layout,
      scales,
      spec,
      ticks: series.between(from, now),
      price,
      stale,
      pastBets: book.accepted().filter((bet) => bet.cell.t_end <= now),
    });
    if (price !== undefined) grid.render({ layout, scales, frozen: stale, bets: book });

    if (book.version() !== statusVersion) {
      statusVersion = book.version();
      showLatestBet(statusEl, book.latest());
    }
    if (frameAt - lastSparkAt > 500) {
      lastSparkAt = frameAt;
      series.trimBefore(now - historyMs - 60_000);
      const range = drawSparkline(sparkEl, series.between(now - historyMs, now), { stale, pixelRatio: window.devicePixelRatio || 1 });
      if (range) {
        highEl.textContent = formatPrice(range.high);
        lowEl.textContent = formatPrice(range.low);
      }
      if (price !== undefined) document.title = `${formatPrice(price)}${stale ? " (stale)" : ""} · BTC Tap Trading`;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  return { feed, book };
}

/** The latest bet in words, with its state and id as attributes for tests. */
function showLatestBet(el: HTMLElement, latest: LatestBet | undefined) {
  if (!latest) return;
  const { cell, amount } = latest;
  const what = `${formatStake(amount)} on ${formatBand(cell.price_low)}–${formatBand(cell.price_high)} · ${formatClock(cell.t_start)}–${formatClock(cell.t_end)}`;
  el.dataset.state = latest.state;
  el.dataset.cellKey = cell.key;
  switch (latest.state) {
    case "pending":
      delete el.dataset.betId;
      el.textContent = `Placing ${what}…`;
      return;
    case "accepted":
      el.dataset.betId = latest.betId;
      el.textContent = `✓ Accepted ${what} · bet ${latest.betId.slice(-8)}`;
      el.title = `bet id ${latest.betId}`;
      return;
    case "rejected":
      delete el.dataset.betId;
      el.textContent = `✕ Refused ${what}: ${latest.message}`;
      return;
    default:
      throw new TypeError(`unknown bet state ${(latest satisfies never as { state: string }).state}`);
  }
}
