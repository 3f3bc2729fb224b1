// A plain HTTP server on loopback for pages that play the admin panel's part
// in tests (an origin to send messages from).
import http from 'node:http';

/** Serves `html` at every path; resolves to {origin, close}. */
export async function servePage(html, { host = '127.0.0.1' } = {}) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    origin: `http://${host}:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
