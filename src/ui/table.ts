/** kubectl-style tables: upper-case headers, columns padded with three spaces, no borders. */
import { color } from './colors';

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  /** styles the padded cell (colour must not change the width calculation) */
  style?: (text: string, row: Row) => string;
}

const GAP = '   ';

export function renderTable<Row>(columns: Column<Row>[], rows: Row[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const pad = (text: string, i: number) => (i === columns.length - 1 ? text : text.padEnd(widths[i]));
  const header = columns.map((c, i) => pad(c.header, i)).join(GAP).trimEnd();
  const lines = cells.map((r, ri) =>
    r.map((text, i) => {
      const padded = pad(text, i);
      const style = columns[i].style;
      return style ? style(padded, rows[ri]) : padded;
    }).join(GAP).trimEnd(),
  );
  return [color.bold(header), ...lines].join('\n') + '\n';
}
