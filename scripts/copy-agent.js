// Copies the in-pod agent's Python files next to the compiled JavaScript (tsc copies only .ts).
const fs = require('node:fs');
const path = require('node:path');

const from = path.join(__dirname, '..', 'src', 'agent');
const to = path.join(__dirname, '..', 'build', 'src', 'agent');
fs.mkdirSync(to, { recursive: true });
for (const name of fs.readdirSync(from).filter((n) => n.endsWith('.py'))) {
  fs.copyFileSync(path.join(from, name), path.join(to, name));
}
