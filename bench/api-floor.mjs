// Floor of the API round trip (control.mjs): a bare node:http server on a unix socket that answers
// every request with the same bytes tend's engine sent for GET /v1/status (read once from a file) —
// the HTTP and socket cost of any Node server, without tend's work to build the answer.
// Usage: node api-floor.mjs SOCKET BODY_FILE
import fs from 'node:fs';
import http from 'node:http';

const [socket, bodyFile] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile);
fs.rmSync(socket, { force: true });
http
  .createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body))
  .listen(socket);
