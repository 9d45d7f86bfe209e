// A plain Node.js HTTP server (no packages): a page, and the request's route echoed as JSON.
const http = require('node:http');

const server = http.createServer((request, response) => {
  if (request.url === '/') {
    response.end('Hello from a Node.js server in a FROM scratch image.\n');
  } else if (request.url.startsWith('/echo/')) {
    response.setHeader('content-type', 'application/json');
    response.end(`${JSON.stringify({ echo: decodeURIComponent(request.url.slice(6)) })}\n`);
  } else {
    response.statusCode = 404;
    response.end('not found\n');
  }
});
// As pid 1 of a container, Node gets SIGTERM only through a handler: close and exit.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(3000, '127.0.0.1');
