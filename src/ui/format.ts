/** Small human formats shared by tables and prompts. */

export function formatBytes(bytes: number): string {
  const units = ['B', 'Ki', 'Mi', 'Gi'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(value < 10 ? 1 : 0)}${units[unit]}`;
}

export function formatCommand(argv: string[], max = 80): string {
  const text = argv.join(' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
