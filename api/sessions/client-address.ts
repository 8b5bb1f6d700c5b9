import type { Server } from "bun";

/** A peer on this machine: the only one whose `X-Real-IP` is believed. */
const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
/** What an IPv4 or IPv6 address may look like (45 is the longest IPv6 text form). */
const SANE_IP = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * The caller's address: nginx's `X-Real-IP` when the request came through a
 * proxy on this machine (the production path), the socket's peer otherwise.
 * A remote caller cannot choose its address by sending the header.
 *
 * ```ts
 * app.post("/api/session", ({ request, server }) => limiter.take(clientAddress(request, server), Date.now()));
 * ```
 */
export function clientAddress(request: Request, server: Server<unknown> | null): string {
  const peer = server?.requestIP(request)?.address ?? "unknown";
  if (!LOOPBACK.test(peer)) return peer;
  const forwarded = request.headers.get("x-real-ip");
  return forwarded && SANE_IP.test(forwarded) ? forwarded : peer;
}
