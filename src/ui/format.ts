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

const ESCAPES: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };

/**
 * One table line for any text from a pod: newline, tab and carriage return shown as `\n`, `\t`,
 * `\r`, other control characters (terminal escape sequences included) as `\xNN`. kubectl's table
 * printer cuts a cell at its first newline and appends "..." (cli-runtime printers/tableprinter.go)
 * and escapes terminal sequences (printers/terminal.go); cutting would hide most of a
 * `python3 -c "…"` command, so we escape instead.
 */
export function oneLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function formatCommand(argv: string[], max = 80): string {
  const text = oneLine(argv.join(' '));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
