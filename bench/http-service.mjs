// The supervised HTTP server of the upgrade measure (selfsup.mjs): appends its PID to a marker file
// (one line per start, like the marker services), then answers every request on 127.0.0.1:PORT with
// "ok". Usage: node http-service.mjs PORT MARKER_FILE
import fs from 'node:fs';
import http from 'node:http';

const [port, marker] = process.argv.slice(2);
fs.appendFileSync(marker, `${process.pid}\n`);
http.createServer((_req, res) => res.end('ok\n')).listen(Number(port), '127.0.0.1');
