// Which connections of a serving app are idle, and since when, so that shutdown closes only the
// ones no client is about to use. Node's own closeIdleConnections() (called by server.close())
// also closes a connection that was accepted a moment ago and whose first request is still on
// the wire: the client sees a reset for a request it already sent.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

interface Usage {
  active: number;
  idleSince: number;
}

export class ConnectionTracker {
  readonly #sockets = new Map<Socket, Usage>();
  /** Every TCP connection, including those still in their TLS handshake. */
  readonly #open = new Set<Socket>();
  /** When a connection was last open: when one arrived, or the last one closed. */
  #lastOpen = Number.NEGATIVE_INFINITY;

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.#open.add(socket);
      this.#lastOpen = Date.now();
      socket.once('close', () => {
        this.#open.delete(socket);
        this.#lastOpen = Date.now();
      });
    });
    // For HTTPS, requests arrive on the TLS socket, which exists once the handshake is done.
    const event = server instanceof TlsServer ? 'secureConnection' : 'connection';
    server.on(event, (socket: Socket) => {
      this.#sockets.set(socket, { active: 0, idleSince: Date.now() });
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('request', (request, response) => {
      const usage = this.#sockets.get(request.socket);
      if (!usage) return;
      usage.active++;
      response.once('close', () => {
        usage.active--;
        usage.idleSince = Date.now();
      });
    });
  }

  /**
   * No connection has been open for `ms`: a client told to leave (Connection: close) that still
   * chooses this server reconnects at once, so after that long closing the port races no one.
   */
  quietFor(ms: number): boolean {
    return this.#open.size === 0 && Date.now() - this.#lastOpen >= ms;
  }

  /** Closes the connections idle for at least `minIdleMs`. */
  closeIdle(minIdleMs: number): void {
    const now = Date.now();
    for (const [socket, usage] of this.#sockets) {
      if (usage.active === 0 && now - usage.idleSince >= minIdleMs) socket.destroy();
    }
  }
}
