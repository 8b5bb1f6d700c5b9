import type { Server } from "bun";

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
const SANE_IP = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * The caller's address: nginx's `X-Real-IP` when the request came through a
 * proxy on this machine (the production path), the socket's peer otherwise.
 * A remote caller cannot choose its address by sending the header.
 */
export function clientAddress(request: Request, server: Server<unknown> | null): string {
  const peer = server?.requestIP(request)?.address ?? "unknown";
  if (!LOOPBACK.test(peer)) return peer;
  const forwarded = request.headers.get("x-real-ip");
  return forwarded && SANE_IP.test(forwarded) ? forwarded : peer;
}
