// Raw HTTP probes shared by scripts/probe-server.mjs and the serve tests (types: http-probes.d.mts).
import net from 'node:net';

/**
 * Send a POST of `total` bytes over a raw socket, respecting backpressure, until it is all sent or
 * the server closes the connection. Resolves to the status of the reply (0 when none came) and how
 * many body bytes the socket took: a server that drains the body takes all of them, one that
 * closes the connection only what fits in the socket buffers.
 */
export function postBody(server, total, timeoutMs = 30_000) {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, server.host);
    let sent = 0;
    let reply = '';
    const chunk = Buffer.alloc(256 * 1024);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0), sent });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d) => {
      reply += d.toString('latin1');
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', () => {
      socket.write(`POST / HTTP/1.1\r\nHost: ${server.host}:${server.port}\r\nContent-Length: ${total}\r\n\r\n`);
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
        setTimeout(finish, 200); // all of it taken: give the reply a moment
      };
      pump();
    });
  });
}
