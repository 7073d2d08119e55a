/**
 * A text table that fits a terminal: columns shrink in a set order to their
 * minimum, cells cut with `…`, so a row never wraps at 80 columns.
 * @module
 */
import { truncate } from "./text_format.ts";

/** One column: its header, alignment and how far it may shrink. */
export interface TableColumn {
  header: string;
  /** Right-align (numbers). @default false */
  numeric?: boolean;
  /** Narrowest it may become; columns without one never shrink. */
  minWidth?: number;
  /** Lower shrinks first. */
  shrinkOrder?: number;
}

const GAP = 2;

/**
 * Column widths for `rows`: each column's widest cell, then, when the total is
 * over `maxWidth`, shrunk column by column (`shrinkOrder`) down to `minWidth`.
 */
export function fitColumnWidths(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[])[],
  maxWidth: number | null,
): number[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => r[i].length)));
  if (maxWidth === null) return widths;
  let excess = widths.reduce((a, b) => a + b, 0) + GAP * (columns.length - 1) - maxWidth;
  const order = columns.map((c, i) => ({ c, i })).filter(({ c }) => c.minWidth !== undefined)
    .sort((a, b) => (a.c.shrinkOrder ?? 0) - (b.c.shrinkOrder ?? 0));
  for (const { c, i } of order) {
    if (excess <= 0) break;
    const cut = Math.min(excess, Math.max(0, widths[i] - c.minWidth!));
    widths[i] -= cut;
    excess -= cut;
  }
  return widths;
}

/**
 * Render header and rows at the fitted widths. `style` paints a padded cell
 * (colour), after fitting, so escape codes never count as width.
 */
export function renderTable(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[])[],
  options: {
    maxWidth: number | null;
    style?: (padded: string, cell: string, column: number, header: boolean) => string;
  },
): string[] {
  const widths = fitColumnWidths(columns, rows, options.maxWidth);
  const style = options.style ?? ((padded: string) => padded);
  const render = (cells: readonly string[], header: boolean): string =>
    cells.map((cell, i) => {
      const fitted = truncate(cell, widths[i]);
      const padded = columns[i].numeric ? fitted.padStart(widths[i]) : fitted.padEnd(widths[i]);
      return style(padded, cell, i, header);
    }).join(" ".repeat(GAP)).trimEnd();
  return [render(columns.map((c) => c.header), true), ...rows.map((row) => render(row, false))];
}
