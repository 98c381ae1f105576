// The service of the health measures (health.mjs). argv: MODE PORT MARKS [MS]
// - sick: an HTTP server that answers 200 for MS ms after it listens, then 500 for good; once it
//   listens it writes its line to fd 3 (readiness { fd: 3 }).
// - late: a TCP server that starts to listen MS ms after the process began.
// Either way, once listening it appends "PID OWN_MS" to MARKS: its own start time, from the
// process's birth (Node's boot included) to listening. SIGTERM ends it at once.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const [mode, port, marks, ms = '0'] = process.argv.slice(2);
const listening = () => {
  fs.appendFileSync(marks, `${process.pid} ${(process.uptime() * 1000).toFixed(2)}\n`);
  if (mode === 'sick') fs.writeSync(3, 'ready\n');
};
process.on('SIGTERM', () => process.exit(0));
if (mode === 'sick') {
  let sickAt = Infinity;
  const server = http.createServer((_request, response) => {
    const sick = performance.now() >= sickAt;
    response.writeHead(sick ? 500 : 200, { 'content-type': 'text/plain' });
    response.end(sick ? 'sick\n' : 'ok\n');
  });
  server.listen(Number(port), '127.0.0.1', () => {
    sickAt = performance.now() + Number(ms);
    listening();
  });
} else {
  const server = net.createServer((socket) => socket.destroy());
  setTimeout(() => server.listen(Number(port), '127.0.0.1', listening), Math.max(0, Number(ms) - process.uptime() * 1000));
}
