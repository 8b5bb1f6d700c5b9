import type { Grid } from "../../common/contracts/grid.ts";
import type { Tick } from "../../common/contracts/price.ts";
import { fetchBet, fetchBetPage, fetchGrid, fetchMe, fetchOpenBets, fetchPriceHistory, fetchRecentBets, placeBet } from "./api-client.ts";
import type { BetEvent } from "../../common/contracts/bet-event.ts";
import type { Me } from "../../common/contracts/session.ts";
import { connectAccountPanel } from "./account-panel.ts";
import { type BetBook, createBetBook, type LatestBet } from "./bet-book.ts";
import { createBetHistory } from "./bet-history.ts";
import { connectBoardPan } from "./board-pan.ts";
import { createChartView } from "./chart-view.ts";
import { trapTab } from "./focus-trap.ts";
import { formatBalance, formatBand, formatChange, formatClock, formatMultiplier, formatPrice, formatStake } from "./format.ts";
import { createPricedGrid, type GridCell } from "./grid-model.ts";
import { createGridView, gridLeft } from "./grid-view.ts";
import { connectHelpSheet } from "./help-sheet.ts";
import { createHistoryPanel } from "./history-panel.ts";
import { connectLeaderboardPanel } from "./leaderboard-panel.ts";
import { createResultSound } from "./result-sound.ts";
import { PAUSED_BADGE, pausedText, sourceLabel } from "./price-label.ts";
import { createPriceSeries } from "./price-series.ts";
import { type BoardLayout, boardLayout, createPriceFollower, scalesFor } from "./scales.ts";
import { createServerClock } from "./server-clock.ts";
import type { KeyValueStore, Session } from "./session.ts";
import { drawSparkline } from "./sparkline.ts";
import { createStakePicker } from "./stakes.ts";
import { createSlippageSetting, withTapQuotes } from "./tap-quotes.ts";
import { type ConnState, connectLiveFeed, type PriceOrigin, type SocketLike } from "./ws-client/mod.ts";

/**
 * Everything the page takes from the browser, so a test could hand in fakes.
 *
 * ```ts
 * const deps: AppDeps = { root: document.body, wsUrl: "wss://example.test/ws", session: createSession({ store: localStorage }), store: localStorage };
 * ```
 */
export interface AppDeps {
  root: HTMLElement;
  wsUrl: string;
  session: Session;
  store: KeyValueStore | undefined;
  fetchHistory?: typeof fetchPriceHistory;
  fetchPricedGrid?: () => Promise<Grid | undefined>;
  openSocket?: (url: string) => SocketLike;
  /** How much history the header line and the change cover (`HISTORY_MS`). */
  historyMs?: number;
}

const element = <T extends Element>(root: ParentNode, selector: string): T => {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`page is missing ${selector}`);
  return found;
};

/** A bet's cell stays in the grid's DOM this long after its window, for its result to land on. */
const RESULT_KEEP_MS = 15_000;

/** A grid older than this is not offered: its prices are no longer quotes (the API has stopped publishing). */
const GRID_STALE_MS = 10_000;

/** With no grid from the socket for this long, the page asks `GET /api/grid`, and asks again no sooner than this. */
const GRID_FETCH_AFTER_MS = 3000;

/** How much history the header line and its change cover by default: five minutes, the "5m change" label. */
const HISTORY_MS = 5 * 60_000;

/** Ticks this much older than the header line's history are kept a while, then trimmed. */
const HISTORY_TRIM_MARGIN_MS = 60_000;

/** History is asked up to this far past the server's now, so a tick stamped a little ahead is not missed. */
const HISTORY_LOOKAHEAD_MS = 1000;

/** The gap between ticks assumed until ticks show the real one. */
const FIRST_TICK_GAP_MS = 1000;

/** A gap between ticks longer than this is an outage, not the feed's pace, and is not learnt. */
const TICK_GAP_MAX_MS = 60_000;

/** How much of each new gap the learnt tick gap takes in (an exponential moving average). */
const TICK_GAP_WEIGHT = 0.2;

/** A price is stale once no tick has come for this many tick gaps (and `STALE_AFTER_MIN_MS`). */
const STALE_AFTER_TICK_GAPS = 3;

/** However fast ticks come, a price is not stale sooner than this. */
const STALE_AFTER_MIN_MS = 3000;

/** A tick's own timestamp may lag the server clock this much more before the price reads stale. */
const TICK_AGE_SLACK_MS = 2000;

/** A balance read that raced a bet event or answer is read again, at most this many times in all. */
const BALANCE_READ_ATTEMPTS = 3;

/** Where the bets panel becomes a drawer over the page (styles.css has the same breakpoint). */
const DRAWER_MEDIA = "(max-width: 900px)";

/** How long after a bet is placed or settles the player's totals are read again: a burst of results is one read. */
const TOTALS_REFRESH_MS = 300;

/** A bet accepted on the socket but unknown waits this long for this tap's own answer before it is fetched. */
const OWN_ANSWER_WAIT_MS = 500;

/** A frame after a long pause (a background tab) moves the view as if only this much time had passed. */
const MAX_FRAME_STEP_MS = 100;

/** The sparkline, the high and low, the title and the trimming of history happen this often, not every frame. */
const HEADER_EVERY_MS = 500;

/**
 * Starts the page: history from `/api/prices`, live ticks and the priced grid
 * from `/ws` (`/api/grid` first), the chart and the grid redrawn each animation
 * frame, bets, balance and open bets through the guest `session`.
 *
 * ```ts
 * startApp({ root: document.body, wsUrl: `wss://${location.host}/ws`, session: createSession({ store }), store });
 * ```
 */
export function startApp({ root, wsUrl, session, store, fetchHistory = fetchPriceHistory, fetchPricedGrid = fetchGrid, openSocket, historyMs = HISTORY_MS }: AppDeps) {
  const priceEl = element<HTMLOutputElement>(root, "[data-testid=price]");
  const staleEl = element<HTMLElement>(root, "[data-testid=stale]");
  const sourceEl = element<HTMLElement>(root, "[data-testid=source]");
  const changeEl = element<HTMLElement>(root, "[data-testid=change]");
  const changeValueEl = element<HTMLElement>(root, "[data-testid=change-value]");
  const connEl = element<HTMLElement>(root, "[data-testid=conn]");
  const statusEl = element<HTMLElement>(root, "[data-testid=bet-status]");
  const board = element<HTMLElement>(root, ".board");
  const pausedEl = element<HTMLElement>(root, ".paused");
  const gridEl = element<HTMLElement>(root, ".grid");
  const sparkEl = element<HTMLCanvasElement>(root, ".spark-canvas");
  const highEl = element<HTMLElement>(root, ".stat-high");
  const lowEl = element<HTMLElement>(root, ".stat-low");
  const balanceEl = element<HTMLOutputElement>(root, "[data-testid=balance]");

  const historyEl = element<HTMLElement>(root, ".history");
  const historyToggle = element<HTMLButtonElement>(root, "[data-testid=history-toggle]");
  const historyCount = element<HTMLElement>(root, "[data-testid=history-open-count]");

  const clock = createServerClock();
  const series = createPriceSeries();
  // Each cell keeps the quote it was priced in: a bet asks for no less than the multiplier the player saw.
  const slippage = createSlippageSetting(store);
  const priced = withTapQuotes(createPricedGrid(), { tolerance: slippage.value });
  const book: BetBook = createBetBook({ send: (request, idempotencyKey) => placeBet(session, request, { idempotencyKey }) });
  const chart = createChartView(element<HTMLCanvasElement>(root, ".chart"));
  const history = createBetHistory();
  const showPlayerTotals = (totals: Me["totals"]) => history.setPlayerTotals({ staked: totals.staked, paidOut: totals.paid_out, net: totals.net });
  /** The totals are the server's (every bet the player placed): read again a moment after bets are placed or settle. */
  let totalsTimer: ReturnType<typeof setTimeout> | undefined;
  const refreshTotalsSoon = () => {
    clearTimeout(totalsTimer);
    totalsTimer = setTimeout(() => {
      fetchMe(session).then(
        (me) => showPlayerTotals(me.totals),
        () => {},
      );
    }, TOTALS_REFRESH_MS);
  };
  const refreshBalance = async () => {
    try {
      for (let attempt = 0; attempt < BALANCE_READ_ATTEMPTS; attempt++) {
        const changes = book.balanceChanges();
        const { balance, totals } = await fetchMe(session);
        showPlayerTotals(totals);
        // A bet event or answer that came while this read was on its way may be newer than it: read again.
        if (book.balanceChanges() === changes) return book.setBalance(balance);
      }
    } catch {
      // Shown again with the next accepted bet.
    }
  };
  const sound = createResultSound(store);
  const panel = createHistoryPanel({ root: historyEl, onResult: (entry) => entry.status !== "open" && sound.play(entry.status) });
  let historyLoading = false;
  /** The next older page of the panel (the first page when none is in yet). */
  const loadHistoryPage = async () => {
    const before = history.nextBefore();
    if (historyLoading || before === null) return;
    historyLoading = true;
    try {
      const page = await fetchBetPage(session, before ? { before } : {});
      history.addPage(page.bets, page.next_before);
    } catch {
      // The button stays; the player can ask again.
    } finally {
      historyLoading = false;
    }
  };
  const refreshAccount = () =>
    refreshBalance().then(async () => {
      try {
        const open = await fetchOpenBets(session);
        book.load(open);
        history.upsert(open);
      } catch {
        // New bets still show; the old ones come back on the next load.
      }
    });
  const refreshResults = async () => {
    try {
      const recent = await fetchRecentBets(session);
      book.applyResults(recent);
      history.upsert(recent);
    } catch {
      // The next reconnect tries again; the balance is already right.
    }
  };
  const grid = createGridView({
    container: gridEl,
    onLockedTap: (cell, reason) => {
      statusEl.dataset.state = "locked";
      statusEl.dataset.cellKey = cell.key;
      delete statusEl.dataset.result;
      delete statusEl.dataset.betId;
      statusEl.textContent = reason;
    },
    onTap: (cell) => {
      const amount = stakes.stake();
      void book.place(cell, amount, priced.quoteFor(cell)).then((outcome) => {
        priced.answered(cell, outcome);
        if (outcome.ok) {
          const wire = { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high };
          history.placed({ betId: outcome.betId, cell: wire, amount, multiplier: outcome.multiplier, potentialPayout: outcome.potentialPayout, createdAt: clock.now() });
          refreshTotalsSoon();
        }
        // A refusal over money may come from bets this page has not seen (another tab): read the balance and the open bets again.
        if (!outcome.ok && (outcome.code === "insufficient_funds" || outcome.code === "limit_exceeded")) void refreshAccount();
      });
    },
  });
  const stakes = createStakePicker(element<HTMLFieldSetElement>(root, ".stakes"), store, (stake) => {
    gridEl.style.setProperty("--stake-label", JSON.stringify(formatStake(stake)));
  });

  let conn: ConnState = "reconnecting";
  /** The newest tick received live, and when (local clock): staleness is judged on both. */
  let lastLive: { tick: Tick; receivedAt: number } | undefined;
  let tickGapMs = FIRST_TICK_GAP_MS;
  let shownStale: boolean | undefined;
  let shownPaused: string | undefined;
  let firstLiveMarked = false;
  let gapFrom: number | undefined;

  const staleAfterMs = () => Math.max(STALE_AFTER_MIN_MS, tickGapMs * STALE_AFTER_TICK_GAPS);
  const isStale = (now: number) => {
    if (conn !== "live" || !lastLive) return true;
    return performance.now() - lastLive.receivedAt > staleAfterMs() || now - lastLive.tick.ts > staleAfterMs() + TICK_AGE_SLACK_MS;
  };

  let shownSource = "";
  /** The label beside the price; a message that does not say (the snapshot on connect) keeps the last one. */
  const showOrigin = (origin: PriceOrigin) => {
    const label = sourceLabel(origin);
    if (label.kind === "unknown" || `${label.kind}:${label.text}` === shownSource) return;
    shownSource = `${label.kind}:${label.text}`;
    sourceEl.textContent = label.text;
    sourceEl.dataset.source = label.kind;
    sourceEl.title = label.kind === "mock" ? "Simulated prices: a random walk, not the market" : `The median of ${label.text} quoting BTC/USD`;
    sourceEl.hidden = false;
  };

  /**
   * The price's colour follows its last move only; the 5-minute change is labelled apart, with its own arrow, so a
   * green price beside a red change reads as two different things, not a contradiction.
   */
  const showPrice = (tick: Tick, previous: Tick | undefined) => {
    priceEl.textContent = formatPrice(tick.price);
    if (previous && previous.price !== tick.price) priceEl.dataset.dir = tick.price > previous.price ? "up" : "down";
    const first = series.between(tick.ts - historyMs, tick.ts)[0];
    if (first && first !== tick) {
      const change = tick.price - first.price;
      changeValueEl.textContent = `${change > 0 ? "▲" : change < 0 ? "▼" : "■"} ${formatChange(change, first.price)}`;
      changeEl.dataset.dir = change > 0 ? "up" : change < 0 ? "down" : "flat";
    }
  };

  const loadHistory = async (from: number) => {
    try {
      const ticks = await fetchHistory({ from, to: clock.now() + HISTORY_LOOKAHEAD_MS });
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

  /** Whether this connection's refusal has already made a new session: once per refusal, so a broken API is not hammered. */
  let renewedSession = false;
  let authedBefore = false;
  const onBet = (event: BetEvent) => {
    const known = book.apply(event);
    refreshTotalsSoon();
    if (event.status !== "accepted" && event.status !== "open" && !history.settle(event.bet_id, event.status, event.payout)) {
      // A result for a bet the panel has not listed (an older one, or placed elsewhere): read it.
      fetchBet(session, event.bet_id).then(
        (view) => history.upsert([view]),
        () => {},
      );
    }
    if (event.status === "won" || event.status === "lost" || event.status === "void") leaders.settled();
    if (known || event.status !== "accepted") return;
    // Accepted but unknown: placed on another device, or this tap's own answer is still on its way. Wait for the
    // latter a moment, then fetch the bet to draw it.
    setTimeout(() => {
      if (book.knows(event.bet_id)) return;
      fetchBet(session, event.bet_id).then(
        (view) => {
          book.load([view]);
          history.upsert([view]);
        },
        () => {},
      );
    }, OWN_ANSWER_WAIT_MS);
  };

  const feed = connectLiveFeed({
    url: wsUrl,
    ...(openSocket ? { openSocket } : {}),
    isOnline: () => navigator.onLine,
    onState: setConn,
    onGrid: (next) => priced.update(next),
    onPong: (sentAt, serverTs, receivedAt) => clock.observe(sentAt, serverTs, receivedAt),
    authToken: () => session.token(),
    onAuthed: () => {
      renewedSession = false;
      // Results settled while the socket was down were not heard: read the balance, the open bets and the results again.
      if (authedBefore) void refreshAccount().then(refreshResults);
      authedBefore = true;
    },
    onUnauthorized: (token) => {
      if (renewedSession) return;
      renewedSession = true;
      // The socket closes (4001) and reconnects with the new session's token.
      session.renew(token).then(
        () => refreshAccount(),
        () => {},
      );
    },
    onBet,
    onResumed: () => {
      // Ticks published while the socket was down come from the history.
      if (gapFrom !== undefined) void loadHistory(gapFrom + 1);
      gapFrom = undefined;
    },
    onTick: (tick, origin) => {
      const previous = lastLive?.tick;
      const receivedAt = performance.now();
      if (previous && tick.ts > previous.ts && tick.ts - previous.ts < TICK_GAP_MAX_MS) {
        tickGapMs = tickGapMs * (1 - TICK_GAP_WEIGHT) + (tick.ts - previous.ts) * TICK_GAP_WEIGHT;
      }
      if (!previous || tick.ts >= previous.ts) lastLive = { tick, receivedAt };
      series.add(tick);
      if (lastLive?.tick === tick) {
        showPrice(tick, previous);
        showOrigin(origin);
      }
    },
  });
  setConn("reconnecting");
  void loadHistory(clock.now() - historyMs);
  void fetchPricedGrid()
    .then((first) => first && priced.update(first))
    .catch(() => {});
  // The session comes first (one POST /api/session on a first visit), then the balance and the open bets, then the panel.
  void refreshAccount().then(loadHistoryPage);
  element<HTMLButtonElement>(root, "[data-testid=history-more]").addEventListener("click", () => void loadHistoryPage());
  // A restored player is a new session: the page starts again as that player.
  connectAccountPanel({ root, session, store, onRestored: () => location.reload() });
  const leaders = connectLeaderboardPanel({ root, session });
  const slippageBox = element<HTMLInputElement>(root, "[data-testid=slippage]");
  slippageBox.checked = slippage.enabled();
  slippageBox.addEventListener("change", () => slippage.set(slippageBox.checked));
  const soundBox = element<HTMLInputElement>(root, "[data-testid=sound]");
  soundBox.checked = sound.enabled();
  soundBox.addEventListener("change", () => sound.setEnabled(soundBox.checked));
  // Below this width the panel is a drawer over the page: while it is open it is a modal dialog. The page behind it
  // takes no focus, taps or screen-reader visits (inert), screen readers are told (role, aria-modal), and Tab cycles
  // inside it. Beside the grid on a desktop it is a plain side panel.
  const drawerMode = window.matchMedia(DRAWER_MEDIA);
  const behindDrawer = [".top", ".board", ".controls"].map((selector) => element<HTMLElement>(root, selector));
  const drawerIsModal = () => drawerMode.matches && historyEl.classList.contains("open");
  const setDrawerModal = () => {
    const modal = drawerIsModal();
    for (const el of behindDrawer) el.inert = modal;
    if (modal) {
      historyEl.setAttribute("role", "dialog");
      historyEl.setAttribute("aria-modal", "true");
    } else {
      historyEl.removeAttribute("role");
      historyEl.removeAttribute("aria-modal");
    }
  };
  drawerMode.addEventListener("change", setDrawerModal);
  trapTab(historyEl, drawerIsModal);
  const setDrawer = (open: boolean) => {
    historyEl.classList.toggle("open", open);
    historyToggle.setAttribute("aria-expanded", String(open));
    setDrawerModal();
    // Focus moves in once the drawer is shown (it is hidden, so unfocusable, until its class applies).
    if (open) requestAnimationFrame(() => element<HTMLButtonElement>(root, "[data-testid=history-close]").focus());
    else if (historyEl.contains(document.activeElement) || document.activeElement === document.body) historyToggle.focus();
  };
  historyToggle.addEventListener("click", () => setDrawer(!historyEl.classList.contains("open")));
  element<HTMLButtonElement>(root, "[data-testid=history-close]").addEventListener("click", () => setDrawer(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && historyEl.classList.contains("open")) setDrawer(false);
  });

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
    // The paused banner sits left of the now line, or under the grid on a phone: never over a cell.
    board.style.setProperty("--now-x", `${layout.nowX}px`);
    board.style.setProperty("--plot-height", `${layout.plotHeight}px`);
  };
  new ResizeObserver(resize).observe(board);
  resize();
  // Drag, wheel and Shift+arrows pan the board; "Now" snaps back (board-pan.ts).
  const boardPan = connectBoardPan({ board, layout: () => layout });

  const follower = createPriceFollower();
  let center = Number.NaN;
  let lastFrameAt = performance.now();
  let lastSparkAt = 0;
  let statusVersion = -1;
  let historyVersion = -1;
  const help = connectHelpSheet(root);
  let helpGrid: Grid | undefined;
  let balanceVersion = -1;
  let lastGridFetchAt = 0;

  /**
   * The grid's cells, plus the cells of bets the grid no longer offers (locked), so every bet stays on the board; and
   * for a while after their window, so a result that arrives then still lands on its cell.
   */
  const cellsToDraw = (now: number): readonly GridCell[] => {
    const cells = priced.cells(now);
    let extra: GridCell[] | undefined;
    for (const bet of book.accepted()) {
      if (bet.cell.t_end <= now - RESULT_KEEP_MS || priced.cell(bet.cell.key)) continue;
      extra ??= [];
      if (extra.some((cell) => cell.key === bet.cell.key)) continue;
      // Drawn locked, for its result: it was offered when taken.
      extra.push({ ...bet.cell, multiplier: bet.multiplier, rtp: 0, offered: true, locked: true });
    }
    return extra ? [...cells, ...extra] : cells;
  };

  const frame = () => {
    const frameAt = performance.now();
    const dt = Math.min(MAX_FRAME_STEP_MS, frameAt - lastFrameAt);
    lastFrameAt = frameAt;
    const now = clock.now();
    const stale = isStale(now);
    const price = lastLive?.tick.price ?? series.last()?.price;
    const spec = priced.spec();
    const latestGrid = priced.latest();
    const gridStale = !latestGrid || now - latestGrid.ts > GRID_STALE_MS;
    // No grid from the socket for a while (it is reconnecting, or the page opened before the API had a price): ask every
    // few seconds, but not while the price is stale, when the API could only answer 503.
    if (!stale && (!latestGrid || now - latestGrid.ts > GRID_FETCH_AFTER_MS) && frameAt - lastGridFetchAt > GRID_FETCH_AFTER_MS) {
      lastGridFetchAt = frameAt;
      void fetchPricedGrid()
        .then((next) => next && priced.update(next))
        .catch(() => {});
    }

    if (stale !== shownStale) {
      shownStale = stale;
      priceEl.dataset.stale = String(stale);
      staleEl.hidden = !stale || price === undefined;
      staleEl.textContent = PAUSED_BADGE;
      if (!stale && !firstLiveMarked) {
        firstLiveMarked = true;
        performance.mark("tap:first-live-price");
      }
    }

    const paused = pausedText({ stale, conn, gridStale, hasGrid: latestGrid !== undefined });
    if (paused !== shownPaused) {
      shownPaused = paused;
      pausedEl.hidden = paused === "";
      pausedEl.textContent = paused;
    }

    if (price !== undefined) {
      const halfRange = layout.plotHeight / 2 / (layout.rowHeight / spec.bandSize);
      center = follower.follow({ price, halfRange, dtMs: dt, hold: grid.pointing() || boardPan.panned() });
    }
    const unpanned = scalesFor(layout, spec, now, Number.isFinite(center) ? center : 0);
    const cells = price !== undefined ? cellsToDraw(now) : [];
    const scales = scalesFor(layout, spec, now, unpanned.centerPrice, boardPan.frame(cells, unpanned));
    // The grid's box follows the now line when the board is panned.
    const left = gridLeft(layout, scales);
    if (gridEl.style.left !== `${left}px`) {
      gridEl.style.left = `${left}px`;
      gridEl.style.width = `${layout.plotWidth - left}px`;
    }
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
    if (price !== undefined) grid.render({ layout, scales, spec, cells, frozen: stale || gridStale, bets: book });
    gridEl.dataset.quoteId = latestGrid?.quote_id ?? "";

    if (latestGrid && latestGrid !== helpGrid) {
      helpGrid = latestGrid;
      help.show(latestGrid);
    }
    if (book.version() !== balanceVersion) {
      balanceVersion = book.version();
      const balance = book.balance();
      if (balance !== undefined) {
        balanceEl.textContent = formatBalance(balance);
        balanceEl.dataset.value = String(balance);
      }
    }
    if (history.version() !== historyVersion) {
      historyVersion = history.version();
      panel.render(history);
      const open = history.totals().open;
      historyCount.textContent = open > 0 ? String(open) : "";
    }
    if (book.version() !== statusVersion) {
      statusVersion = book.version();
      showLatestBet(statusEl, book.latest());
    }
    if (frameAt - lastSparkAt > HEADER_EVERY_MS) {
      lastSparkAt = frameAt;
      series.trimBefore(now - historyMs - HISTORY_TRIM_MARGIN_MS);
      const range = drawSparkline(sparkEl, series.between(now - historyMs, now), { stale, pixelRatio: window.devicePixelRatio || 1 });
      if (range) {
        highEl.textContent = formatPrice(range.high);
        lowEl.textContent = formatPrice(range.low);
      }
      if (price !== undefined) document.title = `${formatPrice(price)}${stale ? " (paused)" : ""} · BTC Tap Trading`;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  return { feed, book, history };
}

/** The latest bet in words, with its state and id as attributes for tests. */
function showLatestBet(el: HTMLElement, latest: LatestBet | undefined) {
  if (!latest) return;
  const { cell, amount } = latest;
  const what = `${formatStake(amount)} on ${formatBand(cell.price_low)}–${formatBand(cell.price_high)} · ${formatClock(cell.t_start)}–${formatClock(cell.t_end)}`;
  el.dataset.state = latest.state;
  if (latest.state !== "rejected") delete el.dataset.code;
  el.dataset.cellKey = cell.key;
  if (latest.state === "accepted" && latest.result) {
    el.dataset.betId = latest.betId;
    el.dataset.result = latest.result;
    el.textContent = resultText(latest.result, what, latest.paid ?? 0, latest.multiplier);
    return;
  }
  delete el.dataset.result;
  switch (latest.state) {
    case "pending":
      delete el.dataset.betId;
      el.textContent = `Placing ${what}…`;
      return;
    case "accepted":
      el.dataset.betId = latest.betId;
      el.textContent = `✓ Accepted ${what} at ${formatMultiplier(latest.multiplier)} · pays ${formatStake(latest.payout)} · bet ${latest.betId.slice(-8)}`;
      el.title = `bet id ${latest.betId}`;
      return;
    case "rejected":
      delete el.dataset.betId;
      el.dataset.code = latest.code;
      // The price moved between the grid and the tap: not placed, and the new multiplier is one tap away.
      el.textContent = latest.code === "quote_changed" ? `The multiplier moved: ${what} · ${latest.message}` : `✕ Refused ${what}: ${latest.message}`;
      return;
    default:
      throw new TypeError(`unknown bet state ${(latest satisfies never as { state: string }).state}`);
  }
}

/** A settled bet in words. */
function resultText(result: "won" | "lost" | "void", what: string, paid: number, multiplier: number): string {
  switch (result) {
    case "won":
      return `★ Won ${formatStake(paid)} · ${what} at ${formatMultiplier(multiplier)}`;
    case "lost":
      return `Lost · ${what} · the price did not touch the band`;
    case "void":
      return `Void · ${what} · no price in the window, ${formatStake(paid)} refunded`;
    default:
      throw new TypeError(`unknown result ${result satisfies never}`);
  }
}
