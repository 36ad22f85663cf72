import type { Duplex } from "node:stream";

/**
 * Answers an upgrade request with a plain HTTP error and closes the socket: before the handshake,
 * there is no WebSocket to close with a code, only the raw connection.
 */
export function refuseUpgrade(socket: Duplex, status: 400 | 404, body = ""): void {
  const text = status === 400 ? "Bad Request" : "Not Found";
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
